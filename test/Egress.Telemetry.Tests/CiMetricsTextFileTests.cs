using Egress.Policy.Events;
using Egress.Policy.Verification;
using Egress.Telemetry.Ci;
using Egress.TestUtils;

namespace Egress.Telemetry.Tests;

public class CiMetricsTextFileTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Verification_FailedWithBlockedAndDrift_RendersTheAlertGauges()
    {
        var result = new VerificationResult
        {
            Errors = [new(5, VerificationCategory.Blocked, "blocked events recorded")],
            Warnings = [new(4, VerificationCategory.Drift, "allowlist differs from lock file")],
            BlockedHosts = [new HostCount("exfil.test", 3), new HostCount("typo.test", 1)],
            IsCi = true,
        };

        var text = CiMetricsTextFile.RenderVerification(result, new CiJobLabels("org/app", "ci/build"), Now);

        const string L = "{repository=\"org/app\",ci_job=\"ci/build\"}";
        Assert.Equal(1, Exposition.Value(text, "egress_verify_failed", L));
        Assert.Equal(4, Exposition.Value(text, "egress_verify_exit_code", L));
        Assert.Equal(1, Exposition.Value(text, "egress_verify_drift", L));
        Assert.Equal(4, Exposition.Value(text, "egress_verify_blocked_events", L));
        Assert.Equal(2, Exposition.Value(text, "egress_verify_blocked_hosts", L));
        Assert.Equal(1, Exposition.Value(text, "egress_verify_errors", "{repository=\"org/app\",ci_job=\"ci/build\",category=\"blocked\"}"));
        Assert.Equal(0, Exposition.Value(text, "egress_verify_errors", "{repository=\"org/app\",ci_job=\"ci/build\",category=\"validation\"}"));
        Assert.Equal(Now.ToUnixTimeSeconds(), Exposition.Value(text, "egress_verify_last_run_timestamp_seconds", L));
    }

    [Fact]
    public void Verification_Passed_RendersZeros()
    {
        var text = CiMetricsTextFile.RenderVerification(new VerificationResult(), new CiJobLabels("", ""), Now);
        Assert.Equal(0, Exposition.Value(text, "egress_verify_failed", "{repository=\"\",ci_job=\"\"}"));
        Assert.Equal(0, Exposition.Value(text, "egress_verify_drift", "{repository=\"\",ci_job=\"\"}"));
    }

    [Fact]
    public void Labels_ComeFromGitHubOrGitLabVariables()
    {
        Assert.Equal(new CiJobLabels("org/app", "CI/test"), CiJobLabels.From(TestEnvironment.Of(("GITHUB_REPOSITORY", "org/app"), ("GITHUB_WORKFLOW", "CI"), ("GITHUB_JOB", "test"))));
        Assert.Equal(new CiJobLabels("grp/proj", "lint"), CiJobLabels.From(TestEnvironment.Of(("CI_PROJECT_PATH", "grp/proj"), ("CI_JOB_NAME", "lint"))));
    }

    [Fact]
    public async Task WrittenFiles_PassPromtoolLint()
    {
        using var dir = new TempDirectory();
        var labels = new CiJobLabels("org/\"quoted\"", "wf/job");
        var verify = CiMetricsTextFile.WriteVerification(dir.Path, new VerificationResult { Errors = [new(2, VerificationCategory.Validation, "x")] }, labels);
        var tooling = CiMetricsTextFile.WriteTooling(dir.Path, checkedTools: 4, downgrades: 1, labels);

        Assert.Equal(1, Exposition.Value(await File.ReadAllTextAsync(tooling), "egress_tooling_downgrades", "{repository=\"org/\\\"quoted\\\"\",ci_job=\"wf/job\"}"));
        foreach (var file in new[] { verify, tooling })
        {
            var result = await ProcessRunner.RunAsync("/bin/sh", ["-c", $"\"{Promtool.Path}\" check metrics < \"{file}\""]);
            Assert.True(result.ExitCode == 0, file + ": " + result.StdOut + result.StdErr);
        }
    }
}

using System.Text.Json;

namespace Egress.Cli.Tests;

public sealed class VerifyPrintSummaryFlagsTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private static readonly (string, string?)[] CleanCi = [("CI", "true"), ("EGRESS_ALLOWLIST", "openai.com")];

    private static (string, string?)[] Env(params (string, string?)[] extra) => [.. CleanCi, .. extra];

    [Fact]
    public async Task NoFlags_ShowsHelpWithExitCodes()
    {
        var run = await _cli.RunAsync([]);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("--verify", run.Out, StringComparison.Ordinal);
        Assert.Contains("Exit codes", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_CleanCi_PrintsPassedFirstAndExits0()
    {
        _cli.WriteLock("openai.com");
        var run = await _cli.RunAsync(CleanCi, "--verify");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(["Policy verification PASSED"], run.OutLines);
    }

    [Theory]
    [InlineData("EGRESS_ENFORCE", "0", 2)]
    [InlineData("EGRESS_ALLOWLIST", "", 2)]
    [InlineData("EGRESS_ALLOWLIST", "openai.com,*", 2)]
    [InlineData("EGRESS_ALLOWLIST", "openai.com,all", 2)]
    [InlineData("EGRESS_ALLOWLIST", "openai.com,a..b", 2)]
    [InlineData("EGRESS_ALLOWLIST", "openai.com,github.com", 3)]
    public async Task Verify_EachRuleInCi_FailsWithItsExitCode(string variable, string value, int exit)
    {
        _cli.WriteLock("openai.com");
        // Drift fails only with EGRESS_CI_FAIL_ON_DRIFT (the validation cases drift too, and 3 would win over 2).
        var run = await _cli.RunAsync(Env(("EGRESS_CI_FAIL_ON_DRIFT", exit == 3 ? "1" : "0"), (variable, value)), "--verify");

        Assert.Equal(exit, run.ExitCode);
        Assert.Equal("Policy verification FAILED:", run.OutLines[0]);
        Assert.StartsWith("  - ", run.OutLines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_BlockedEventsFromAnEarlierProcess_Exit4InCiWithFailOnBlocked()
    {
        _cli.WriteLock("openai.com");
        var journal = _cli.File("events.jsonl");
        var check = await _cli.RunAsync(Env(("EGRESS_EVENTS_FILE", journal)), "check", "https://evil.example/", "https://api.openai.com/");
        Assert.Equal(1, check.ExitCode);

        var lenient = await _cli.RunAsync(Env(("EGRESS_EVENTS_FILE", journal)), "--verify");
        var strict = await _cli.RunAsync(Env(("EGRESS_EVENTS_FILE", journal), ("EGRESS_CI_FAIL_ON_BLOCKED", "1")), "--verify");

        Assert.Equal(0, lenient.ExitCode);
        Assert.Contains("1 blocked egress event(s): evil.example (1)", lenient.Out, StringComparison.Ordinal);
        Assert.Equal(4, strict.ExitCode);
        Assert.Equal(["Policy verification FAILED:", "  - 1 blocked egress event(s): evil.example (1)"], strict.OutLines[..2]);
    }

    [Fact]
    public async Task Verify_AllFailuresAtOnce_HighestExitCodeWinsAndEachErrorIsListed()
    {
        _cli.WriteLock("github.com");
        var journal = _cli.File("events.jsonl");
        await _cli.RunAsync(Env(("EGRESS_EVENTS_FILE", journal)), "check", "evil.example");

        var run = await _cli.RunAsync(
            Env(("EGRESS_EVENTS_FILE", journal), ("EGRESS_ENFORCE", "0"), ("EGRESS_ALLOWLIST", "openai.com,*"),
                ("EGRESS_CI_FAIL_ON_DRIFT", "1"), ("EGRESS_CI_FAIL_ON_BLOCKED", "1")),
            "--verify");

        Assert.Equal(4, run.ExitCode);
        var errors = run.OutLines.Skip(1).TakeWhile(l => l.StartsWith("  - ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(4, errors.Length); // enforcement, wildcard, drift, blocked
    }

    [Fact]
    public async Task Verify_OutsideCi_ProblemsAreWarningsAndItPasses()
    {
        var run = await _cli.RunAsync([("EGRESS_ENFORCE", "0"), ("EGRESS_ALLOWLIST", "*"), ("EGRESS_CI_FAIL_ON_DRIFT", "1")], "--verify");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("Policy verification PASSED", run.OutLines[0]);
        Assert.Contains("Warnings:", run.OutLines);
        Assert.Contains(run.OutLines, l => l.Contains("wildcard token '*'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("true")]
    public async Task Verify_ExplicitLockFileMissing_FailsEvenOutsideCi(string? ci)
    {
        var run = await _cli.RunAsync([("CI", ci), ("EGRESS_ALLOWLIST", "openai.com"), ("EGRESS_LOCK_FILE", "missing.lock")], "--verify");

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("Policy verification FAILED:", run.OutLines[0]);
        Assert.Contains("missing.lock", run.OutLines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_DiscoversTheSeedLockLocation()
    {
        Directory.CreateDirectory(Path.Combine(_cli.Dir, "core_modules", "network"));
        File.WriteAllText(Path.Combine(_cli.Dir, "core_modules", "network", "policy_allowlist.lock"), "openai.com\n");

        var ok = await _cli.RunAsync(Env(("EGRESS_CI_FAIL_ON_DRIFT", "1")), "--verify");
        var drift = await _cli.RunAsync(Env(("EGRESS_CI_FAIL_ON_DRIFT", "1"), ("EGRESS_ALLOWLIST", "pypi.org")), "--verify");

        Assert.Equal(0, ok.ExitCode);
        Assert.Equal(3, drift.ExitCode);
        Assert.Contains("core_modules/network/policy_allowlist.lock", drift.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_GarbageEnforce_EnforcesAndWarnsNamingTheVariable()
    {
        _cli.WriteLock("openai.com");
        var run = await _cli.RunAsync(Env(("EGRESS_ENFORCE", "garbage")), "--verify");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains(run.OutLines, l => l.StartsWith("  - EGRESS_ENFORCE: unrecognised value 'garbage'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Verify_UnderGitHubActions_AnnotatesAndAppendsTheStepSummary()
    {
        _cli.WriteLock("openai.com");
        var journal = _cli.File("events.jsonl");
        var summary = _cli.File("step-summary.md");
        File.WriteAllText(summary, "previous step\n");
        await _cli.RunAsync(Env(("EGRESS_EVENTS_FILE", journal)), "check", "a.example", "b.example", "a.example", "https://100%25.example/");

        var run = await _cli.RunAsync(
            Env(("GITHUB_ACTIONS", "true"), ("GITHUB_STEP_SUMMARY", summary), ("EGRESS_EVENTS_FILE", journal),
                ("EGRESS_ALLOWLIST", "openai.com,openai"), ("EGRESS_CI_FAIL_ON_BLOCKED", "1")),
            "--verify");

        Assert.Equal(4, run.ExitCode);
        var errors = run.OutLines.Where(l => l.StartsWith("::error ", StringComparison.Ordinal)).ToArray();
        var warnings = run.OutLines.Where(l => l.StartsWith("::warning ", StringComparison.Ordinal)).ToArray();
        // Drift (the lock lacks 'openai') stays a warning without EGRESS_CI_FAIL_ON_DRIFT; blocked events are the one error.
        Assert.Contains("blocked egress event(s)", Assert.Single(errors), StringComparison.Ordinal);
        Assert.Single(warnings, w => w.Contains("drift", StringComparison.Ordinal));
        Assert.Single(warnings, w => w.Contains("blocked egress to a.example (2 times)", StringComparison.Ordinal));
        Assert.Single(warnings, w => w.Contains("blocked egress to b.example (1 time)", StringComparison.Ordinal));
        Assert.Single(warnings, w => w.Contains("keyword token 'openai'", StringComparison.Ordinal));
        Assert.Single(warnings, w => w.Contains("blocked egress to 100%2525.example (1 time)", StringComparison.Ordinal)); // '%' escaped

        var md = File.ReadAllText(summary);
        Assert.StartsWith("previous step\n## Egress policy verification: FAILED", md, StringComparison.Ordinal);
        Assert.Contains("| `a.example` | 2 |", md, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_WithoutGitHubActions_WritesNoAnnotations()
    {
        _cli.WriteLock("openai.com");
        var summary = _cli.File("step-summary.md");
        var run = await _cli.RunAsync(Env(("GITHUB_STEP_SUMMARY", summary), ("EGRESS_ALLOWLIST", "*")), "--verify");

        Assert.Equal(2, run.ExitCode);
        Assert.DoesNotContain("::", run.Out, StringComparison.Ordinal);
        Assert.False(File.Exists(summary));
    }

    [Fact]
    public async Task PrintText_ShowsEveryVariableTokenKindsAndWarnings()
    {
        var run = await _cli.RunAsync([("EGRESS_ALLOWLIST", "openai,openai.com:443,=api.example.com,10.0.0.0/8,*"), ("EGRESS_PROM_PORT", "x")], "--print");

        Assert.Equal(0, run.ExitCode);
        foreach (var variable in new[] { "EGRESS_ENFORCE=1", "EGRESS_ALLOWLIST=", "EGRESS_LOG=1", "EGRESS_LOG_FORMAT=text", "EGRESS_OTEL_ENABLE=0", "EGRESS_OTEL_EXPORTER=http",
            "EGRESS_OTEL_ENDPOINT=http://localhost:4318", "EGRESS_PROM_ENABLE=0", "EGRESS_PROM_PORT=9464", "EGRESS_CI_FAIL_ON_BLOCKED=0", "EGRESS_CI_ALLOW_DISABLE=0",
            "EGRESS_CI_FAIL_ON_DRIFT=0", "EGRESS_LOCK_FILE=", "EGRESS_EVENTS_FILE=", "EGRESS_RECENT_EVENTS=100" })
        {
            Assert.Contains(variable, run.Out, StringComparison.Ordinal);
        }

        Assert.Contains(run.OutLines, l => l.Contains("openai ", StringComparison.Ordinal) && l.Contains("keyword", StringComparison.Ordinal));
        Assert.Contains(run.OutLines, l => l.Contains("domain (and subdomains), port 443", StringComparison.Ordinal));
        Assert.Contains(run.OutLines, l => l.Contains("exact host", StringComparison.Ordinal));
        Assert.Contains(run.OutLines, l => l.Contains("IP/CIDR 10.0.0.0/8", StringComparison.Ordinal));
        Assert.Contains(run.OutLines, l => l.TrimStart().StartsWith('*') && l.Contains("INVALID", StringComparison.Ordinal));
        Assert.Contains(run.OutLines, l => l.StartsWith("warning: EGRESS_PROM_PORT:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PrintJson_IsOneJsonDocumentWithSnakeCaseConfig()
    {
        var run = await _cli.RunAsync([("EGRESS_ALLOWLIST", "openai.com"), ("EGRESS_ENFORCE", "nope")], "--print", "--json");

        Assert.Equal(0, run.ExitCode);
        using var doc = JsonDocument.Parse(run.Out);
        Assert.Equal(["config", "metrics", "recent_events"], doc.RootElement.EnumerateObject().Select(p => p.Name));
        var config = doc.RootElement.GetProperty("config");
        Assert.True(config.GetProperty("enforce").GetBoolean());
        Assert.Equal("openai.com", config.GetProperty("allowlist")[0].GetString());
        Assert.Equal(100, config.GetProperty("recent_events").GetInt32());
        Assert.Empty(doc.RootElement.GetProperty("recent_events").EnumerateArray());
        Assert.Contains("EGRESS_ENFORCE", run.Error, StringComparison.Ordinal); // the warning goes to stderr, keeping stdout parseable
    }

    [Fact]
    public async Task PrintJson_HasTheUpstreamConfigAndMetricsKeysAndTheJournalsEvents()
    {
        var journal = _cli.File("events.jsonl");
        await _cli.RunAsync([("EGRESS_ALLOWLIST", "openai.com"), ("EGRESS_EVENTS_FILE", journal)], "check", "evil.example", "api.openai.com", "b.example");

        var run = await _cli.RunAsync(
            [("EGRESS_ALLOWLIST", "openai.com"), ("EGRESS_EVENTS_FILE", journal), ("EGRESS_OTEL_EXPORTER", "grpc"), ("EGRESS_PROM_PORT", "9100")],
            "--print", "--json");

        Assert.Equal(0, run.ExitCode);
        using var doc = JsonDocument.Parse(run.Out);
        var config = doc.RootElement.GetProperty("config");
        foreach (var key in new[] { "enforce", "allowlist", "log_level", "log_format", "otel_enable", "otel_exporter", "otel_endpoint", "prom_enable", "prom_port",
            "ci_fail_on_blocked", "ci_allow_disable", "ci_fail_on_drift" })
        {
            Assert.True(config.TryGetProperty(key, out _), "config lacks " + key);
        }

        Assert.Equal("grpc", config.GetProperty("otel_exporter").GetString());
        Assert.Equal("http://localhost:4318", config.GetProperty("otel_endpoint").GetString());
        Assert.Equal(9100, config.GetProperty("prom_port").GetInt32());
        var metrics = doc.RootElement.GetProperty("metrics");
        Assert.Equal(["allowed_total", "blocked_total", "total"], metrics.EnumerateObject().Take(3).Select(p => p.Name));
        Assert.Equal(1, metrics.GetProperty("allowed_total").GetInt64());
        Assert.Equal(2, metrics.GetProperty("blocked_total").GetInt64());
        Assert.Equal(3, metrics.GetProperty("total").GetInt64());
        var events = doc.RootElement.GetProperty("recent_events").EnumerateArray().ToArray();
        Assert.Equal(["evil.example", "api.openai.com", "b.example"], events.Select(e => e.GetProperty("host").GetString()));
        Assert.Equal("DENY", events[0].GetProperty("action").GetString());
    }

    [Fact]
    public async Task PrintText_StartsWithTheUpstreamLinesInOrder()
    {
        var journal = _cli.File("events.jsonl");
        await _cli.RunAsync([("EGRESS_ALLOWLIST", "openai.com"), ("EGRESS_EVENTS_FILE", journal)], "check", "evil.example", "api.openai.com");

        var on = await _cli.RunAsync([("EGRESS_ALLOWLIST", "openai.com,github.com"), ("EGRESS_EVENTS_FILE", journal)], "--print");
        var off = await _cli.RunAsync([("EGRESS_ALLOWLIST", ""), ("EGRESS_ENFORCE", "0")], "--print");

        Assert.Equal(0, on.ExitCode);
        Assert.Equal(["Enforcement: ENABLED", "Allowlist: openai.com, github.com", "Allowed: 1", "Blocked: 1", "Total: 2", "Recent events (last 2):"], on.OutLines[..6]);
        Assert.Matches(@"^  \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z DENY evil\.example ", on.OutLines[6]);
        Assert.Matches(@"^  \S+ ALLOW api\.openai\.com ", on.OutLines[7]);
        Assert.Equal("Egress policy configuration", on.OutLines[8]);
        Assert.Equal(["Enforcement: DISABLED", "Allowlist: (empty: everything denied)", "Allowed: 0", "Blocked: 0", "Total: 0", "Recent events: (none)", "Egress policy configuration"], off.OutLines[..7]);
    }

    [Fact]
    public async Task Json_WithoutPrint_IsAUsageError()
    {
        var run = await _cli.RunAsync([], "--json");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("--json goes with --print", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownFlag_IsAUsageError()
        => Assert.Equal(1, (await _cli.RunAsync([], "--verfy")).ExitCode);

    [Fact]
    public async Task SummaryOut_WritesEverySpecFieldAtomically()
    {
        _cli.WriteLock("openai.com");
        var journal = _cli.File("events.jsonl");
        await _cli.RunAsync(Env(("EGRESS_EVENTS_FILE", journal)), "check", "b.example", "a.example", "b.example", "api.openai.com");
        var path = _cli.File("out/egress-summary.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, new string('x', 500_000));

        var run = await _cli.RunAsync(Env(("EGRESS_EVENTS_FILE", journal)), "--summary-out", "out/egress-summary.json");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("", run.Out);
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        Assert.True(DateTimeOffset.TryParse(root.GetProperty("timestamp").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _));
        Assert.Equal("openai.com", root.GetProperty("config").GetProperty("allowlist")[0].GetString());
        Assert.Equal(1, root.GetProperty("metrics").GetProperty("allowed_total").GetInt64());
        Assert.Equal(3, root.GetProperty("metrics").GetProperty("blocked_total").GetInt64());
        Assert.Equal(4, root.GetProperty("metrics").GetProperty("total").GetInt64());
        Assert.Equal(4, root.GetProperty("recent_events").GetArrayLength());
        var blocked = root.GetProperty("unique_blocked_hosts");
        Assert.Equal(2, blocked.GetProperty("count").GetInt32());
        Assert.Equal("b.example", blocked.GetProperty("hosts")[0].GetProperty("host").GetString());
        Assert.Equal(2, blocked.GetProperty("hosts")[0].GetProperty("occurrences").GetInt64());
        Assert.True(root.GetProperty("verification").GetProperty("passed").GetBoolean());
        Assert.Equal(["egress-summary.json"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
    }

    [Fact]
    public async Task AllFlagsCombined_RunInSeedOrder_VerifyThenPrintThenSummary()
    {
        _cli.WriteLock("openai.com");
        var path = _cli.File("summary.json");

        var run = await _cli.RunAsync(Env(("EGRESS_ALLOWLIST", "openai.com,*")), "--verify", "--print", "--json", "--summary-out", path);

        Assert.Equal(2, run.ExitCode);
        Assert.Equal("Policy verification FAILED:", run.OutLines[0]);
        int json = run.Out.IndexOf("\n{", StringComparison.Ordinal);
        Assert.True(json > 0, run.Out);
        using (JsonDocument.Parse(run.Out[json..])) { }
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        Assert.Equal(2, doc.RootElement.GetProperty("verification").GetProperty("exit_code").GetInt32());
        Assert.False(doc.RootElement.GetProperty("verification").GetProperty("passed").GetBoolean());
    }

    [Fact]
    public async Task PrintAndSummary_WithoutVerify_ExitZeroEvenWhenVerificationWouldFail()
    {
        var path = _cli.File("summary.json");
        var run = await _cli.RunAsync(Env(("EGRESS_ALLOWLIST", "*")), "--print", "--summary-out", path);

        Assert.Equal(0, run.ExitCode);
        Assert.DoesNotContain("Policy verification", run.Out, StringComparison.Ordinal);
        Assert.True(File.Exists(path));
    }

    [Fact]
    public async Task SummaryOut_UnwritablePath_IsReportedWithExit1()
    {
        var dir = _cli.File("a-directory");
        Directory.CreateDirectory(dir);
        var run = await _cli.RunAsync(CleanCi, "--summary-out", dir);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("cannot write summary", run.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_cli.Dir, "*.tmp", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("EGRESS_CI_FAIL_ON_DRIFT", 3)]
    [InlineData("EGRESS_CI_FAIL_ON_BLOCKED", 4)]
    public async Task Verify_GarbageFailOnSwitch_IsTreatedAsOnAndWarns(string variable, int exit)
    {
        _cli.WriteLock("openai.com");
        var journal = _cli.File("events.jsonl");
        await _cli.RunAsync(Env(("EGRESS_EVENTS_FILE", journal)), "check", "evil.example");

        var run = await _cli.RunAsync(Env(("EGRESS_EVENTS_FILE", journal), ("EGRESS_ALLOWLIST", exit == 3 ? "openai.com,pypi.org" : "openai.com"), (variable, "sometimes")), "--verify");

        Assert.Equal(exit, run.ExitCode);
        Assert.Contains(run.OutLines, l => l.StartsWith($"  - {variable}: unrecognised value 'sometimes'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Verify_RelativeStepSummaryPath_IsResolvedAgainstTheWorkingDirectory()
    {
        _cli.WriteLock("openai.com");
        await _cli.RunAsync(Env(("GITHUB_ACTIONS", "true"), ("GITHUB_STEP_SUMMARY", "step.md")), "--verify");
        Assert.StartsWith("## Egress policy verification: PASSED", File.ReadAllText(_cli.File("step.md")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--verify")]
    [InlineData("--print")]
    public async Task HostileValues_CannotInjectLinesOrWorkflowCommands(string flag)
    {
        _cli.WriteLock("openai.com", "x\u001b[2J");
        var run = await _cli.RunAsync(
            Env(("GITHUB_ACTIONS", "true"), ("EGRESS_ALLOWLIST", "openai.com,a\n::error::pwned,*\r\n::warning::pwned"), ("EGRESS_ENFORCE", "no\n::error::pwned")),
            flag);

        Assert.DoesNotContain(run.OutLines, l => l.Contains("::error::pwned", StringComparison.Ordinal) && l.StartsWith("::error::", StringComparison.Ordinal));
        Assert.DoesNotContain(run.OutLines, l => l.StartsWith("::warning::pwned", StringComparison.Ordinal) || l.StartsWith("::error::pwned", StringComparison.Ordinal));
        Assert.DoesNotContain('\u001b', run.Out);
    }

    [Fact]
    public async Task Print_ATokenThatLooksLikeAWorkflowCommand_CannotStartOne()
    {
        var run = await _cli.RunAsync([("EGRESS_ALLOWLIST", "openai.com,::error::forged,::add-mask::x")], "--print");

        Assert.DoesNotContain(run.OutLines, l => l.TrimStart().StartsWith("::", StringComparison.Ordinal));
        Assert.Contains("%3A%3Aerror::forged", run.Out, StringComparison.Ordinal);
    }
}

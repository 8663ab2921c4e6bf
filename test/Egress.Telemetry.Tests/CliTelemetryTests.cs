using Egress.Telemetry.Ci;
using Egress.TestUtils;

namespace Egress.Telemetry.Tests;

/// <summary>The real <c>egress-policy</c> process starts and stops the exporters itself.</summary>
public class CliTelemetryTests
{
    /// <summary>
    /// Runs the CLI from its own build output: this test project references ASP.NET Core (the Kestrel receivers),
    /// so its folder lacks the Microsoft.Extensions assemblies a plain console app loads from NuGet.
    /// </summary>
    private static Task<ProcessResult> RunCliAsync(IEnumerable<string> args, IDictionary<string, string?> environment, string? workingDirectory = null)
    {
        var configuration = AppContext.BaseDirectory.Contains("/bin/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var dll = RepositoryRoot.File("src", "Egress.Cli", "bin", configuration, "net10.0", "egress-policy.dll");
        return ProcessRunner.RunAsync("dotnet", new[] { dll }.Concat(args), environment, workingDirectory);
    }

    [Fact]
    public async Task Check_WithOtelEnabled_ExportsItsDecisionsBeforeExiting()
    {
        await using var receiver = await OtlpReceiver.StartAsync(grpc: false);
        var result = await RunCliAsync(
            ["check", "https://api.example.com/", "https://cli-exfil.test/"],
            new Dictionary<string, string?>
            {
                ["EGRESS_ALLOWLIST"] = "example.com",
                ["EGRESS_OTEL_ENABLE"] = "1",
                ["EGRESS_OTEL_ENDPOINT"] = receiver.BaseUri.ToString().TrimEnd('/'),
                ["OTEL_SERVICE_NAME"] = "cli-under-test",
            });

        Assert.Equal(1, result.ExitCode);
        var export = await receiver.WaitForAsync(e => e.Metrics.Any(m => m.Name == "egress.blocked"), TimeSpan.FromSeconds(30));
        Assert.True(export is not null, "the CLI exported nothing; stderr: " + result.StdErr);
        Assert.Equal("cli-under-test", export!.Resource["service.name"]);
        var blocked = export.Metrics.Where(m => m.Name == "egress.blocked").SelectMany(m => m.Points).Single();
        Assert.Equal("cli-exfil.test", blocked.Attributes["server.address"]);
        Assert.Equal("check", blocked.Attributes["egress.source"]);
        Assert.Equal(1, blocked.Value);
        Assert.Equal(1, export.Metrics.Where(m => m.Name == "egress.allowed").SelectMany(m => m.Points).Single().Value);
    }

    [Fact]
    public async Task Check_WithUnreachableCollector_DecidesAsUsual_AndWarnsOnce()
    {
        var result = await RunCliAsync(
            ["check", "https://api.example.com/"],
            new Dictionary<string, string?>
            {
                ["EGRESS_ALLOWLIST"] = "example.com",
                ["EGRESS_OTEL_ENABLE"] = "1",
                ["EGRESS_OTEL_ENDPOINT"] = "http://127.0.0.1:9",
                ["OTEL_EXPORTER_OTLP_TIMEOUT"] = "2000",
            });

        Assert.Equal(0, result.ExitCode);
        Assert.Single(result.StdErr.Split('\n'), l => l.Contains("OTLP metrics export", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Verify_WithTextfileDir_WritesTheCiGauges()
    {
        using var dir = new TempDirectory();
        var result = await RunCliAsync(
            ["--verify"],
            new Dictionary<string, string?>
            {
                ["CI"] = "true",
                ["EGRESS_ALLOWLIST"] = "*",
                ["EGRESS_PROM_TEXTFILE_DIR"] = dir.File("textfile"),
                ["GITHUB_REPOSITORY"] = "org/app",
                ["GITHUB_WORKFLOW"] = "ci",
                ["GITHUB_JOB"] = "build",
            },
            workingDirectory: dir.Path);

        Assert.Equal(2, result.ExitCode);
        var text = await File.ReadAllTextAsync(Path.Combine(dir.File("textfile"), CiMetricsTextFile.VerifyFileName));
        Assert.Equal(1, Exposition.Value(text, "egress_verify_failed", "{repository=\"org/app\",ci_job=\"ci/build\"}"));
        Assert.Equal(2, Exposition.Value(text, "egress_verify_exit_code", "{repository=\"org/app\",ci_job=\"ci/build\"}"));
    }
}

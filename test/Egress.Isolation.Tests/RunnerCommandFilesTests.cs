using Egress.TestUtils;

namespace Egress.Isolation.Tests;

/// <summary>
/// The CI runner's command files (<c>GITHUB_STEP_SUMMARY</c>, <c>GITHUB_OUTPUT</c>, <c>GITHUB_ENV</c>,
/// <c>GITHUB_PATH</c>, <c>GITHUB_STATE</c>) are read-only to an isolated command, so it cannot forge the job
/// summary or put outputs and variables into later steps.
/// </summary>
public sealed class RunnerCommandFilesTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ReadOnlyPaths_ExistingFilesOfTheSetVariables_FullAndEachOnce()
    {
        string summary = Touch("step_summary");
        string output = Touch("set_output");
        var env = new Dictionary<string, string?>
        {
            ["GITHUB_STEP_SUMMARY"] = summary,
            ["GITHUB_OUTPUT"] = "set_output", // relative: resolved against the working directory
            ["GITHUB_ENV"] = summary,
            ["GITHUB_PATH"] = string.Empty,
            ["GITHUB_STATE"] = _dir.File("missing"),
        };

        var paths = RunnerCommandFiles.ReadOnlyPaths(k => env.GetValueOrDefault(k), _dir.Path);

        Assert.Equal([summary, output], paths);
    }

    [Fact]
    public async Task IsolatedCommand_CannotWriteTruncateReplaceOrRemoveTheRunnerFiles()
    {
        NamespaceSupport.Require();
        string[] files = [Touch("step_summary"), Touch("set_output"), Touch("set_env"), Touch("add_path"), Touch("state")];
        await File.WriteAllTextAsync(files[0], "## real summary\n");
        var env = new Dictionary<string, string?>
        {
            ["GITHUB_STEP_SUMMARY"] = files[0],
            ["GITHUB_OUTPUT"] = files[1],
            ["GITHUB_ENV"] = files[2],
            ["GITHUB_PATH"] = files[3],
            ["GITHUB_STATE"] = files[4],
        };
        var paths = RunnerCommandFiles.ReadOnlyPaths(k => env.GetValueOrDefault(k));
        Assert.Equal(files, paths);
        string result = _dir.File("result");
        string fake = _dir.File("fake");
        string script = $"for f in {string.Join(' ', files)}; do " +
                        "if echo 'Policy verification PASSED' >> \"$f\" 2>/dev/null; then echo \"wrote $f\"; else echo refused; fi; " +
                        ": > \"$f\" 2>/dev/null && echo \"truncated $f\"; " +
                        $"echo x > {fake}; mv -f {fake} \"$f\" 2>/dev/null && echo \"replaced $f\"; " +
                        "rm -f \"$f\" 2>/dev/null && echo \"removed $f\"; " +
                        $"done > {result}; exit 3";

        using var isolated = await IsolatedProcess.StartAsync(new IsolationStartInfo
        {
            Command = ["bash", "-c", script],
            AgentCommand = ["dotnet", Path.Combine(AppContext.BaseDirectory, "egress-policy.dll")],
            ReadOnlyPaths = paths,
        });
        int code = await isolated.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(3, code); // the command ran (and ended fast: its own exit code, not a set-up failure)
        Assert.Equal(string.Concat(Enumerable.Repeat("refused\n", files.Length)), await File.ReadAllTextAsync(result));
        Assert.Equal("## real summary\n", await File.ReadAllTextAsync(files[0]));
        Assert.All(files[1..], f => Assert.Equal(0, new FileInfo(f).Length));
    }

    [Fact]
    public async Task InsideRun_TheJobSummaryCannotBeForged_RunStillReports()
    {
        string summary = Touch("step_summary");
        string output = Touch("set_output");
        string envFile = Touch("set_env");
        var env = new Dictionary<string, string?>
        {
            ["EGRESS_ALLOWLIST"] = "example.com",
            ["GITHUB_STEP_SUMMARY"] = summary,
            ["GITHUB_OUTPUT"] = output,
            ["GITHUB_ENV"] = envFile,
        };
        string script = """
            echo '### Policy verification PASSED' >> "$GITHUB_STEP_SUMMARY" || echo "summary refused"
            echo 'verdict=pass' >> "$GITHUB_OUTPUT" || echo "output refused"
            echo 'LD_PRELOAD=/tmp/evil.so' >> "$GITHUB_ENV" || echo "env refused"
            exit 0
            """;

        var result = await IsolatedRunHarness.RunScriptAsync(script, env, _dir.Path);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("summary refused", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("output refused", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("env refused", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("Read-only file system", result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("PASSED", await File.ReadAllTextAsync(summary), StringComparison.Ordinal);
        Assert.Equal(0, new FileInfo(output).Length);
        Assert.Equal(0, new FileInfo(envFile).Length);
    }

    private string Touch(string name)
    {
        string path = _dir.File(name);
        File.WriteAllText(path, string.Empty);
        return path;
    }
}

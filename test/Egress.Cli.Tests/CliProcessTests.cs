using System.Text.Json;
using Egress.TestUtils;

namespace Egress.Cli.Tests;

/// <summary>The real <c>egress-policy</c> executable in separate processes.</summary>
public sealed class CliProcessTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Process_CheckAndVerify_ExitCodesAndOutput()
    {
        File.WriteAllText(_dir.File("policy_allowlist.lock"), "openai.com\n");
        var env = new Dictionary<string, string?> { ["CI"] = "true", ["EGRESS_ALLOWLIST"] = "openai.com", ["EGRESS_EVENTS_FILE"] = _dir.File("events.jsonl"), ["EGRESS_CI_FAIL_ON_BLOCKED"] = "1" };

        var allowed = await ProcessRunner.RunCliAsync(["check", "https://api.openai.com/v1"], env, _dir.Path);
        var passed = await ProcessRunner.RunCliAsync(["--verify"], env, _dir.Path);
        var denied = await ProcessRunner.RunCliAsync(["check", "https://evil.example/"], env, _dir.Path);
        var failed = await ProcessRunner.RunCliAsync(["--verify", "--summary-out", "egress-summary.json"], env, _dir.Path);

        Assert.Equal(0, allowed.ExitCode);
        Assert.StartsWith("ALLOW api.openai.com:443", allowed.StdOut, StringComparison.Ordinal);
        Assert.Equal((0, "Policy verification PASSED"), (passed.ExitCode, passed.StdOut.Trim()));
        Assert.Equal(1, denied.ExitCode);
        Assert.StartsWith("DENY  evil.example:443", denied.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("DENY", denied.StdErr, StringComparison.Ordinal); // printed once (issue 11)
        Assert.Equal(4, failed.ExitCode);
        Assert.StartsWith("Policy verification FAILED:\n  - 1 blocked egress event(s): evil.example (1)", failed.StdOut.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        using var summary = JsonDocument.Parse(File.ReadAllText(_dir.File("egress-summary.json")));
        Assert.Equal(4, summary.RootElement.GetProperty("verification").GetProperty("exit_code").GetInt32());
    }

    [Fact]
    public async Task Process_GlobalizationInvariantMode_InternationalNamesRefusedNotMisMapped()
    {
        // Without ICU, IdnMapping does not case-fold: BÜCHER.example would become another host than bücher.example.
        var env = new Dictionary<string, string?> { ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1", ["EGRESS_ALLOWLIST"] = "bücher.example,example.com" };

        var host = await ProcessRunner.RunCliAsync(["check", "https://BÜCHER.example/"], env, _dir.Path);
        var ascii = await ProcessRunner.RunCliAsync(["check", "https://example.com/"], env, _dir.Path);

        Assert.Equal(1, host.ExitCode);
        Assert.Contains("invalid destination: internationalised domain names need ICU", host.StdOut, StringComparison.Ordinal);
        Assert.Contains("EGRESS_ALLOWLIST: token 'bücher.example'", host.StdErr, StringComparison.Ordinal);
        Assert.Contains("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", host.StdErr, StringComparison.Ordinal);
        Assert.Equal(0, ascii.ExitCode);
    }

    [Fact]
    public async Task Process_GitHubActions_AnnotationsOnStdout()
    {
        var summary = _dir.File("step.md");
        var env = new Dictionary<string, string?> { ["CI"] = "true", ["GITHUB_ACTIONS"] = "true", ["GITHUB_STEP_SUMMARY"] = summary, ["EGRESS_ALLOWLIST"] = "*" };

        var run = await ProcessRunner.RunCliAsync(["--verify"], env, _dir.Path);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("::error title=Egress policy::EGRESS_ALLOWLIST contains wildcard token '*'", run.StdOut, StringComparison.Ordinal);
        Assert.Contains("FAILED", File.ReadAllText(summary), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Journal_ConcurrentProcesses_EveryLineWholeAndCounted()
    {
        const int Processes = 8, PerProcess = 200;
        var journal = _dir.File("events.jsonl");
        var env = new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "allowed.example", ["EGRESS_EVENTS_FILE"] = journal, ["EGRESS_LOG"] = "0" };

        var runs = await Task.WhenAll(Enumerable.Range(0, Processes).Select(p =>
        {
            var args = new List<string> { "check" };
            args.AddRange(Enumerable.Range(0, PerProcess).Select(i => i % 4 == 0 ? $"https://a{i}.allowed.example/" : $"https://p{p}-d{i}.blocked.example/"));
            return ProcessRunner.RunCliAsync(args, env, _dir.Path, TimeSpan.FromMinutes(3));
        }));

        Assert.All(runs, r => Assert.Equal(1, r.ExitCode));
        var bytes = File.ReadAllBytes(journal);
        Assert.Equal((byte)'\n', bytes[^1]);
        // A record may follow a blank line: its writer saw another's line only in part and wrote a newline first.
        var lines = File.ReadAllLines(journal).Where(l => l.Length > 0).ToArray();
        Assert.Equal(Processes * PerProcess, lines.Length);
        var pids = new HashSet<int>();
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line); // a torn or interleaved line would not parse
            pids.Add(doc.RootElement.GetProperty("pid").GetInt32());
        }

        Assert.Equal(Processes, pids.Count);

        // A later process sees all of them.
        var summaryPath = _dir.File("summary.json");
        var summary = await ProcessRunner.RunCliAsync(["--summary-out", summaryPath], env, _dir.Path);
        Assert.Equal(0, summary.ExitCode);
        using var s = JsonDocument.Parse(File.ReadAllText(summaryPath));
        var metrics = s.RootElement.GetProperty("metrics");
        Assert.Equal(Processes * PerProcess / 4, metrics.GetProperty("allowed_total").GetInt64());
        Assert.Equal(Processes * PerProcess * 3 / 4, metrics.GetProperty("blocked_total").GetInt64());
        Assert.Equal(Processes * PerProcess * 3 / 4, s.RootElement.GetProperty("unique_blocked_hosts").GetProperty("count").GetInt32());
        Assert.Equal(0, metrics.GetProperty("skipped_journal_lines").GetInt64());
    }

    [Fact]
    public async Task Journal_GarbageLinesFromOtherWriters_AreSkippedNeverFatal()
    {
        var journal = _dir.File("events.jsonl");
        File.WriteAllText(journal, "garbage\n{\"action\":\"DENY\",\"host\":null}\n{\"ts\":1,\"action\":\"DENY\",\"host\":\"x.example\"}\n{\"trunc");
        var env = new Dictionary<string, string?> { ["CI"] = "1", ["EGRESS_ALLOWLIST"] = "openai.com", ["EGRESS_EVENTS_FILE"] = journal, ["EGRESS_CI_FAIL_ON_BLOCKED"] = "1" };

        var run = await ProcessRunner.RunCliAsync(["--verify"], env, _dir.Path);

        Assert.Equal(4, run.ExitCode);
        Assert.Contains("x.example (1)", run.StdOut, StringComparison.Ordinal);
        Assert.Contains("3 unreadable line(s)", run.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", run.StdErr, StringComparison.Ordinal);
    }

    /// <summary>
    /// A real curl under <c>run --isolation none</c> asks for two ports of one host: the report (text and JSON) lists
    /// them apart, with the port, and the summary's <c>unique_blocked_hosts</c> does too. The proxy denies both, so no
    /// connection is made to either port.
    /// </summary>
    [Fact]
    public async Task Run_TwoPortsOfOneHost_AreReportedApartWithThePort()
    {
        var env = new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "openai.com" };
        string[] curl = ["--", "curl", "-s", "-o", "/dev/null", "http://127.0.0.1:28461/a", "http://127.0.0.1:28462/b", "http://127.0.0.1:28462/c"];

        var text = await ProcessRunner.RunCliAsync(["run", "--isolation", "none", "--summary-out", "run-summary.json", .. curl], env, _dir.Path);
        var json = await ProcessRunner.RunCliAsync(["run", "--isolation", "none", "--json", .. curl], env, _dir.Path);

        Assert.Contains("denied: 127.0.0.1:28462 (2), 127.0.0.1:28461 (1)", text.StdErr, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(json.StdErr[json.StdErr.IndexOf('{', StringComparison.Ordinal)..]);
        Assert.Equal(["127.0.0.1:28462", "127.0.0.1:28461"], doc.RootElement.GetProperty("denied").EnumerateArray().Select(h => h.GetProperty("host").GetString()));
        using var summary = JsonDocument.Parse(File.ReadAllText(_dir.File("run-summary.json")));
        Assert.Equal(["127.0.0.1:28462", "127.0.0.1:28461"], summary.RootElement.GetProperty("unique_blocked_hosts").GetProperty("hosts").EnumerateArray().Select(h => h.GetProperty("host").GetString()));
    }

    /// <summary>
    /// The real executable (its own runtimeconfig, where UseSystemResourceKeys would act) prints .NET's messages,
    /// not resource keys such as <c>IO_FileExists_Name</c> or <c>ErrorStartingProcess</c>.
    /// </summary>
    [Fact]
    public async Task Process_ErrorMessages_AreTextNotResourceKeys()
    {
        var dir = Directory.CreateDirectory(_dir.File("garbage.lock")).FullName;
        var env = new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "openai.com" };

        var notFound = await ProcessRunner.RunCliAsync(["run", "--isolation", "none", "--", "/no/such/program"], env, _dir.Path);
        var summary = await ProcessRunner.RunCliAsync(["--summary-out", dir], env, _dir.Path);
        var badValue = await ProcessRunner.RunCliAsync(["proxy", "--header-timeout", "soon"], env, _dir.Path);

        Assert.Equal(127, notFound.ExitCode);
        Assert.Contains("cannot start '/no/such/program'", notFound.StdErr, StringComparison.Ordinal);
        Assert.Contains("No such file or directory", notFound.StdErr, StringComparison.Ordinal);
        Assert.Equal(1, summary.ExitCode);
        Assert.Contains($"cannot write summary {dir}: Is a directory", summary.StdErr, StringComparison.Ordinal);
        Assert.Equal(1, badValue.ExitCode);
        Assert.Contains("--header-timeout", badValue.StdErr, StringComparison.Ordinal);
        Assert.Contains("'soon' is not a number: must be more than 0 and at most 86400 seconds", badValue.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("System.Double", badValue.StdErr, StringComparison.Ordinal);
        foreach (var text in new[] { notFound.StdErr, summary.StdErr, badValue.StdErr })
        {
            Assert.DoesNotContain("ErrorStartingProcess", text, StringComparison.Ordinal);
            Assert.DoesNotMatch(@"\b[A-Z][A-Za-z]*_[A-Z][a-z]", text);
        }
    }
}

using System.Text.Json;
using Egress.TestUtils;

namespace Egress.Governance.Tests;

/// <summary>
/// What ci.yml relies on, run for real: several processes journal their decisions into one
/// EGRESS_EVENTS_FILE, then `egress-policy --verify --summary-out egress-summary.json` under GitHub Actions
/// annotates each unique blocked host, writes the summary artifact and fails per EGRESS_CI_* switches.
/// </summary>
public sealed class CiContractTests : IDisposable
{
    private const string RepositoryAllowlist = "127.0.0.0/8,::1,=localhost";
    private readonly TempDirectory _dir = new();

    public CiContractTests()
        => File.Copy(RepositoryFiles.PathOf("policy_allowlist.lock"), _dir.File("policy_allowlist.lock"));

    public void Dispose() => _dir.Dispose();

    private Dictionary<string, string?> Env(params (string Key, string Value)[] extra)
    {
        var env = new Dictionary<string, string?>
        {
            ["EGRESS_ALLOWLIST"] = RepositoryAllowlist,
            ["EGRESS_EVENTS_FILE"] = _dir.File("egress-events.jsonl"),
            ["EGRESS_LOG"] = "0",
        };
        foreach (var (k, v) in extra)
        {
            env[k] = v;
        }

        return env;
    }

    private async Task JournalTestRunAsync()
    {
        // Three "test processes": two try to leave the machine, one talks to loopback.
        Assert.Equal(1, (await ProcessRunner.RunCliAsync(["check", "https://evil.example/upload"], Env(), _dir.Path)).ExitCode);
        Assert.Equal(1, (await ProcessRunner.RunCliAsync(["check", "https://EVIL.example./again", "http://exfil.example:8080/"], Env(), _dir.Path)).ExitCode);
        Assert.Equal(0, (await ProcessRunner.RunCliAsync(["check", "http://127.0.0.1:9/"], Env(), _dir.Path)).ExitCode);
    }

    private Dictionary<string, string?> CiEnv(string failOnBlocked) => Env(
        ("CI", "true"), ("GITHUB_ACTIONS", "true"), ("GITHUB_STEP_SUMMARY", _dir.File("step-summary.md")),
        ("EGRESS_CI_FAIL_ON_DRIFT", "1"), ("EGRESS_CI_FAIL_ON_BLOCKED", failOnBlocked));

    [Fact]
    public async Task Verify_AfterJournaledTestRun_AnnotatesEachUniqueBlockedHostAndWritesTheSummary()
    {
        await JournalTestRunAsync();

        var verify = await ProcessRunner.RunCliAsync(["--verify", "--summary-out", "egress-summary.json"], CiEnv("0"), _dir.Path);

        Assert.True(verify.ExitCode == 0, verify.StdOut + verify.StdErr);
        Assert.StartsWith("Policy verification PASSED", verify.StdOut, StringComparison.Ordinal);
        var blockedAnnotations = verify.StdOut.Split('\n').Where(l => l.StartsWith("::warning title=Egress blocked::", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, blockedAnnotations.Count);
        Assert.Contains("evil.example (2 times)", blockedAnnotations[0], StringComparison.Ordinal);
        Assert.Contains("exfil.example:8080 (1 time)", blockedAnnotations[1], StringComparison.Ordinal);

        using var summary = JsonDocument.Parse(File.ReadAllText(_dir.File("egress-summary.json")));
        var root = summary.RootElement;
        Assert.Equal(3, root.GetProperty("metrics").GetProperty("blocked_total").GetInt64());
        Assert.Equal(1, root.GetProperty("metrics").GetProperty("allowed_total").GetInt64());
        Assert.Equal(2, root.GetProperty("unique_blocked_hosts").GetProperty("count").GetInt32());
        Assert.True(root.GetProperty("verification").GetProperty("passed").GetBoolean());
        Assert.Contains("Egress policy verification: PASSED", File.ReadAllText(_dir.File("step-summary.md")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_FailOnBlocked_ExitsFourWithAnError()
    {
        await JournalTestRunAsync();

        var verify = await ProcessRunner.RunCliAsync(["--verify", "--summary-out", "egress-summary.json"], CiEnv("1"), _dir.Path);

        Assert.Equal(4, verify.ExitCode);
        Assert.Contains("::error title=Egress policy::3 blocked egress event(s)", verify.StdOut, StringComparison.Ordinal);
        Assert.True(File.Exists(_dir.File("egress-summary.json")), "the summary artifact is written even when verification fails");
    }

    [Fact]
    public async Task Verify_AllowlistDriftingFromTheLockFile_ExitsThree()
    {
        var env = CiEnv("0");
        env["EGRESS_ALLOWLIST"] = RepositoryAllowlist + ",api.openai.com";

        var verify = await ProcessRunner.RunCliAsync(["--verify"], env, _dir.Path);

        Assert.Equal(3, verify.ExitCode);
        Assert.Contains("not in lock file: api.openai.com", verify.StdOut, StringComparison.Ordinal);
    }
}

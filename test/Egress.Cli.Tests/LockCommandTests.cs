namespace Egress.Cli.Tests;

public sealed class LockCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Lock_WritesTheAllowlistWithAReviewHeader()
    {
        var run = await _cli.RunAsync([("EGRESS_ALLOWLIST", "OpenAI.com, =api.example.com ,10.0.0.0/8")], "lock");

        Assert.Equal(0, run.ExitCode);
        var text = File.ReadAllText(_cli.File("policy_allowlist.lock"));
        Assert.StartsWith("# Egress Policy Allowlist Lock\n", text, StringComparison.Ordinal);
        Assert.EndsWith("\n10.0.0.0/8\n=api.example.com\nopenai.com\n", text, StringComparison.Ordinal);
        Assert.Equal([_cli.File("policy_allowlist.lock")], Directory.GetFiles(_cli.Dir));
    }

    [Fact]
    public async Task Lock_ThenVerifyWithFailOnDrift_Passes()
    {
        (string, string?)[] env = [("CI", "1"), ("EGRESS_ALLOWLIST", "openai.com,github.com"), ("EGRESS_CI_FAIL_ON_DRIFT", "1")];
        Assert.Equal(0, (await _cli.RunAsync(env, "lock")).ExitCode);
        Assert.Equal(0, (await _cli.RunAsync(env, "--verify")).ExitCode);
    }

    [Theory]
    [InlineData("openai.com,*")]
    [InlineData("all")]
    [InlineData("openai.com,a..b")]
    [InlineData("")]
    public async Task Lock_RefusesAnInvalidOrEmptyAllowlist(string allowlist)
    {
        var run = await _cli.RunAsync([("EGRESS_ALLOWLIST", allowlist)], "lock");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("not written", run.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(_cli.File("policy_allowlist.lock")));
    }

    [Fact]
    public async Task Lock_Diff_ShowsBothDirectionsAndExits3()
    {
        _cli.WriteLock("# header", "openai.com", "github.com");
        var run = await _cli.RunAsync([("EGRESS_ALLOWLIST", "openai.com,pypi.org")], "lock", "--diff");

        Assert.Equal(3, run.ExitCode);
        Assert.Contains("-github.com", run.OutLines);
        Assert.Contains("+pypi.org", run.OutLines);
        Assert.Equal("drift: 1 added, 1 removed", run.OutLines[^1]);
        Assert.Equal("# header\nopenai.com\ngithub.com\n", File.ReadAllText(_cli.File("policy_allowlist.lock"))); // --diff writes nothing
    }

    [Fact]
    public async Task Lock_Diff_NoDrift_Exits0()
    {
        _cli.WriteLock("GITHUB.com", "openai.com");
        var run = await _cli.RunAsync([("EGRESS_ALLOWLIST", "openai.com,github.com")], "lock", "--diff");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("no drift", run.OutLines[^1]);
    }

    [Fact]
    public async Task Lock_Diff_MissingLockFile_IsAValidationError()
        => Assert.Equal(2, (await _cli.RunAsync([("EGRESS_ALLOWLIST", "openai.com")], "lock", "--diff")).ExitCode);

    [Fact]
    public async Task Lock_UsesExplicitFileThenVariableThenDiscoveredSeedLocation()
    {
        var seed = Path.Combine(_cli.Dir, "core_modules", "network", "policy_allowlist.lock");
        Directory.CreateDirectory(Path.GetDirectoryName(seed)!);
        File.WriteAllText(seed, "old.example\n");

        await _cli.RunAsync([("EGRESS_ALLOWLIST", "a.example")], "lock");
        await _cli.RunAsync([("EGRESS_ALLOWLIST", "b.example"), ("EGRESS_LOCK_FILE", "var.lock")], "lock");
        await _cli.RunAsync([("EGRESS_ALLOWLIST", "c.example"), ("EGRESS_LOCK_FILE", "var.lock")], "lock", "--file", "flag.lock");

        Assert.EndsWith("\na.example\n", File.ReadAllText(seed), StringComparison.Ordinal);
        Assert.EndsWith("\nb.example\n", File.ReadAllText(_cli.File("var.lock")), StringComparison.Ordinal);
        Assert.EndsWith("\nc.example\n", File.ReadAllText(_cli.File("flag.lock")), StringComparison.Ordinal);
        Assert.False(File.Exists(_cli.File("policy_allowlist.lock")));
    }

    [Fact]
    public async Task Verify_InCi_AnInvalidOrWildcardLockLine_IsARule3FailureNamingItsLine()
    {
        _cli.WriteLock("# header", "openai.com", "*", "10.0.0.0/99", "0.0.0.0/00", "com.");
        var run = await _cli.RunAsync([("CI", "1"), ("EGRESS_ALLOWLIST", "openai.com")], "--verify");

        Assert.Equal(2, run.ExitCode);
        var output = run.Out + run.Error;
        Assert.Contains("line 3: wildcard token '*' is prohibited", output, StringComparison.Ordinal);
        Assert.Contains("line 4: token '10.0.0.0/99'", output, StringComparison.Ordinal);
        Assert.Contains("line 5: wildcard token '0.0.0.0/00'", output, StringComparison.Ordinal);
        Assert.Contains("line 6: token 'com.' covers the public suffix", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_OutsideCi_AnInvalidLockLine_IsAWarningNamingItsLine()
    {
        _cli.WriteLock("openai.com", "*");
        var run = await _cli.RunAsync([("EGRESS_ALLOWLIST", "openai.com")], "--verify");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("line 2: wildcard token '*' is prohibited", run.Out + run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lock_Diff_NamesInvalidLinesWithControlCharactersEscapedAndExits2()
    {
        _cli.WriteLock("openai.com", "evil\u001b[2J.com", "all");
        var run = await _cli.RunAsync([("EGRESS_ALLOWLIST", "openai.com")], "lock", "--diff");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("-evil\\u001b[2j.com", run.OutLines);
        Assert.Contains("line 2: token 'evil\\u001b[2j.com' contains control characters", run.Error, StringComparison.Ordinal);
        Assert.Contains("line 3: wildcard token 'all' is prohibited", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', run.Out + run.Error);
    }

    [Fact]
    public async Task Lock_Diff_SameInvalidTokenInAllowlistAndLock_IsStillNamed()
    {
        _cli.WriteLock("openai.com", "0.0.0.0/00");
        var run = await _cli.RunAsync([("EGRESS_ALLOWLIST", "openai.com,0.0.0.0/00")], "lock", "--diff");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("line 2: wildcard token '0.0.0.0/00'", run.Error, StringComparison.Ordinal);
    }
}

namespace Egress.Cli.Tests;

/// <summary>
/// IP/CIDR tokens that together cover a whole family are refused wherever a /0 is: <c>--verify</c> in CI,
/// <c>lock</c>, <c>lock --diff</c> and <c>export</c>.
/// </summary>
public sealed class CoveringNetworksTests : IDisposable
{
    private static readonly (string, string?)[] Covering = [("CI", "true"), ("EGRESS_ALLOWLIST", "example.com,0.0.0.0/1,128.0.0.0/1")];
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task Verify_InCi_FailsWithRule3()
    {
        _cli.WriteLock("example.com", "0.0.0.0/1", "128.0.0.0/1");

        var run = await _cli.RunAsync(Covering, "--verify");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("  - EGRESS_ALLOWLIST: tokens '0.0.0.0/1', '128.0.0.0/1' together cover every IPv4 address, as 0.0.0.0/0 would", run.Out, StringComparison.Ordinal);
        Assert.Contains($"  - lock file {_cli.File("policy_allowlist.lock")} line 2: tokens '0.0.0.0/1', '128.0.0.0/1' together cover", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lock_RefusesToWriteIt_AndDiffFlagsTheLockFile()
    {
        var write = await _cli.RunAsync(Covering, "lock");
        _cli.WriteLock("example.com", "0.0.0.0/1", "128.0.0.0/1");
        var diff = await _cli.RunAsync(Covering, "lock", "--diff");

        Assert.Equal(2, write.ExitCode);
        Assert.Contains("together cover every IPv4 address", write.Error, StringComparison.Ordinal);
        Assert.Equal(2, diff.ExitCode);
        Assert.Contains("line 2: tokens '0.0.0.0/1', '128.0.0.0/1' together cover", diff.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_RefusesIt()
    {
        _cli.WriteLock("example.com", "::/1", "8000::/1");

        var run = await _cli.RunAsync([("EGRESS_ALLOWLIST", "example.com")], "export", "--format", "squid");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("tokens '8000::/1', '::/1' together cover every IPv6 address", run.Error, StringComparison.Ordinal); // the lock file's sorted order
        Assert.Contains("has invalid tokens; fix them first (nothing exported)", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("8000::/1", run.Out, StringComparison.Ordinal);
    }
}

using Egress.TestUtils;

namespace Egress.Export.Tests.Pipeline;

/// <summary>The real CLI: which source wins, exit codes, output file.</summary>
public sealed class ExportCommandTests
{
    [Fact]
    public async Task Export_UsesTheLockFile_OverTheEnvironment_AndSaysSo()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("policy_allowlist.lock"), "# reviewed\nexample.com\n");
        var result = await ProcessRunner.RunCliAsync(["export", "--format", "squid"], new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "other.org" }, dir.Path);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains(".example.com", result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("other.org", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("tokens from lock file " + dir.File("policy_allowlist.lock"), result.StdErr, StringComparison.Ordinal);
        Assert.Contains("differs from the lock file", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_FromEnv_UsesTheAllowlist()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("policy_allowlist.lock"), "example.com\n");
        var result = await ProcessRunner.RunCliAsync(["export", "--format", "networkpolicy", "--from-env", "-o", "np.yaml"], new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "10.0.0.0/8:443" }, dir.Path);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("tokens from EGRESS_ALLOWLIST (--from-env)", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("\"cidr\": \"10.0.0.0/8\"", File.ReadAllText(dir.File("np.yaml")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_InexpressibleToken_ExitsOne_NamingIt_AndWritesNothing()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("policy_allowlist.lock"), "openai\nexample.com\n");
        var result = await ProcessRunner.RunCliAsync(["export", "--format", "cilium", "-o", "out.yaml"], null, dir.Path);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("'openai'", result.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("out.yaml")));
        var lossy = await ProcessRunner.RunCliAsync(["export", "--format", "cilium", "--lossy", "-o", "out.yaml"], null, dir.Path);
        Assert.Equal(0, lossy.ExitCode);
        Assert.Contains("dropped (--lossy, narrower) 'openai'", lossy.StdErr, StringComparison.Ordinal);
        Assert.Contains("# DROPPED (--lossy, narrower): 'openai'", File.ReadAllText(dir.File("out.yaml")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("*", 2)]
    [InlineData("exa mple.com", 2)]
    [InlineData("", 2)]
    public async Task Export_InvalidOrEmptyLock_ExitsTwo(string token, int exit)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("policy_allowlist.lock"), token + "\n");
        var result = await ProcessRunner.RunCliAsync(["export", "--format", "squid"], null, dir.Path);
        Assert.Equal(exit, result.ExitCode);
        Assert.Empty(result.StdOut);
    }

    [Fact]
    public async Task Export_NoLockAndNoAllowlist_ExitsTwo()
    {
        using var dir = new TempDirectory();
        var result = await ProcessRunner.RunCliAsync(["export", "--format", "squid"], null, dir.Path);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("nothing to export", result.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--name", "Bad_Name")]
    [InlineData("--selector", "app")]
    [InlineData("--ports", "0")]
    public async Task Export_BadFlag_ExitsOne(string flag, string value)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("policy_allowlist.lock"), "example.com\n");
        var result = await ProcessRunner.RunCliAsync(["export", "--format", "cilium", flag, value], null, dir.Path);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(flag, result.StdErr, StringComparison.Ordinal);
    }
}

using Egress.TestUtils;

namespace Egress.Isolation.Tests;

/// <summary>
/// What <c>run</c> keeps out of its command's environment: the journal's HMAC key (the child must not be
/// able to sign forged lines), and the socket switch <c>run</c> set for itself — while a value the operator
/// set is passed on untouched.
/// </summary>
public sealed class RunEnvironmentTests : IDisposable
{
    private const string Show = "echo \"key=[${EGRESS_EVENTS_KEY-unset}] inline=[${DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS-unset}]\"";

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("netns")]
    [InlineData("none")]
    public async Task Command_DoesNotSeeTheKey_OrTheSocketSwitchRunSetForItself(string isolation)
    {
        var result = await IsolatedRunHarness.RunScriptAsync(Show,
            new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "example.com", ["EGRESS_EVENTS_KEY"] = new string('k', 40) },
            _dir.Path, "--isolation", isolation);

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("key=[unset] inline=[unset]", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Command_SeesTheOperatorsOwnSocketSwitch()
    {
        var result = await IsolatedRunHarness.RunScriptAsync(Show,
            new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "example.com", ["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "0" },
            _dir.Path);

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("inline=[0]", result.StdOut, StringComparison.Ordinal);
    }
}

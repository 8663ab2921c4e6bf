namespace Egress.Cli.Tests;

/// <summary>Which invocations get inline socket completions, and that the operator's own choice wins.</summary>
public sealed class SocketEngineTuningTests
{
    [Theory]
    [InlineData(new[] { "proxy", "--listen", "127.0.0.1:0" }, null, null, true)]
    [InlineData(new[] { "proxy" }, "0", null, false)]
    [InlineData(new[] { "proxy" }, " off ", null, false)]
    [InlineData(new[] { "proxy" }, "garbage", null, true)]
    [InlineData(new[] { "proxy", "--tls-cert", "c.pem" }, null, null, false)]
    [InlineData(new[] { "proxy", "--tls-cert=c.pem" }, null, null, false)]
    [InlineData(new[] { "run", "--", "curl" }, null, null, true)]
    [InlineData(new[] { "lock" }, null, null, false)]
    [InlineData(new[] { "check", "proxy" }, null, null, false)]
    [InlineData(new[] { "proxy" }, null, "0", false)]
    [InlineData(new[] { "run", "--", "x" }, null, "1", true)]
    public void Apply_ChoosesPerInvocation(string[] args, string? egressSwitch, string? runtimeSwitch, bool inline)
    {
        var env = new Dictionary<string, string?>
        {
            ["EGRESS_PROXY_INLINE_COMPLETIONS"] = egressSwitch,
            [SocketEngineTuning.RuntimeVariable] = runtimeSwitch,
        };
        var set = new Dictionary<string, string>();

        bool result = SocketEngineTuning.Apply(args, k => env.GetValueOrDefault(k), (k, v) => set[k] = v);

        Assert.Equal(inline, result);
        // Only set when we chose it; an operator's own value is never overwritten.
        Assert.Equal(inline && runtimeSwitch is null, set.ContainsKey(SocketEngineTuning.RuntimeVariable));
    }
}

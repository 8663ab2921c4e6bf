using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Proxy.Transparent;

namespace Egress.Proxy.Tests;

public sealed class ProxyOptionsTests
{
    public static TheoryData<string, ProxyOptions> OutOfRange() => new()
    {
        { nameof(ProxyOptions.MaxRequestLineBytes), new ProxyOptions { MaxRequestLineBytes = 0 } },
        { nameof(ProxyOptions.MaxHeaderBytes), new ProxyOptions { MaxHeaderBytes = -1 } },
        { nameof(ProxyOptions.MaxHeaderCount), new ProxyOptions { MaxHeaderCount = -1 } },
        { nameof(ProxyOptions.MaxConnections), new ProxyOptions { MaxConnections = 0 } },
        { nameof(ProxyOptions.HeaderTimeout), new ProxyOptions { HeaderTimeout = TimeSpan.Zero } },
        { nameof(ProxyOptions.IdleTimeout), new ProxyOptions { IdleTimeout = Timeout.InfiniteTimeSpan } },
        { nameof(ProxyOptions.ConnectTimeout), new ProxyOptions { ConnectTimeout = TimeSpan.FromSeconds(-1) } },
        { nameof(ProxyOptions.ShutdownGrace), new ProxyOptions { ShutdownGrace = TimeSpan.FromTicks(-1) } },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void AServerOrForwarder_RefusesALimitOutOfRange_NamingIt(string property, ProxyOptions options)
    {
        // Before, a negative MaxHeaderCount (for one) was taken and then threw on every connection.
        using var policy = Policy();

        var server = Assert.ThrowsAny<ArgumentException>(() => new EgressProxyServer(policy, options));
        var forwarder = Assert.ThrowsAny<ArgumentException>(() => new TransparentForwarder(policy, options));

        Assert.Equal(property, server.ParamName);
        Assert.Equal(property, forwarder.ParamName);
    }

    [Fact]
    public async Task TheDefaultsAndTheSmallestLimits_AreAccepted()
    {
        using var policy = Policy();
        var smallest = new ProxyOptions
        {
            MaxRequestLineBytes = 1, MaxHeaderBytes = 1, MaxHeaderCount = 0, MaxConnections = 1,
            HeaderTimeout = TimeSpan.FromTicks(1), IdleTimeout = TimeSpan.FromTicks(1), ConnectTimeout = TimeSpan.FromTicks(1),
            ShutdownGrace = TimeSpan.Zero,
        };

        foreach (var options in new[] { new ProxyOptions(), smallest })
        {
            await using var server = new EgressProxyServer(policy, options);
            await using var forwarder = new TransparentForwarder(policy, options);
            Assert.Same(policy, server.Policy);
        }
    }

    private static EgressPolicy Policy() =>
        EgressPolicy.Create(new EgressOptions { Allowlist = ["127.0.0.1"], Enforce = true, LogLevel = 0 }, TextWriter.Null);
}

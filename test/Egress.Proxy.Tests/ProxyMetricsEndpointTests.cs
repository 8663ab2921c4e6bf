using System.Net;
using System.Net.Sockets;
using Egress.Proxy.Tests.Support;

namespace Egress.Proxy.Tests;

/// <summary>The real CLI proxy with <c>EGRESS_PROM_ENABLE=1</c>: one endpoint shows decisions and the proxy's own meter.</summary>
public sealed class ProxyMetricsEndpointTests
{
    [Fact]
    public async Task Proxy_WithPromEnabled_ExposesDecisionAndProxyMetrics()
    {
        int promPort = FreeLoopbackPort();
        using var origin = new MiniHttpServer();
        using var proxy = await ProxyProcess.StartAsync(new Dictionary<string, string?>
        {
            ["EGRESS_ALLOWLIST"] = "127.0.0.1",
            ["EGRESS_PROM_ENABLE"] = "1",
            ["EGRESS_PROM_PORT"] = promPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        var allowed = await Curl.RunAsync("-o", "/dev/null", "-w", "%{http_code}", "-x", proxy.Url, $"http://127.0.0.1:{origin.Port}/x");
        var denied = await Curl.RunAsync("-o", "/dev/null", "-w", "%{http_connect}", "-x", proxy.Url, "https://blocked.example/");
        var metrics = await Curl.RunAsync($"http://127.0.0.1:{promPort}/metrics");

        Assert.Equal("200", allowed.StdOut);
        Assert.Equal("403", denied.StdOut);
        var lines = metrics.StdOut.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("egress_allowed_total{", StringComparison.Ordinal) && l.Contains("egress_source=\"proxy\"", StringComparison.Ordinal) && l.EndsWith(" 1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("egress_blocked_total{", StringComparison.Ordinal) && l.Contains("server_address=\"blocked.example\"", StringComparison.Ordinal) && l.EndsWith(" 1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("egress_proxy_requests_total{", StringComparison.Ordinal) && l.Contains("egress_action=\"deny\"", StringComparison.Ordinal) && l.Contains("egress_proxy_kind=\"connect\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("egress_proxy_transferred_bytes_total{network_io_direction=\"receive\"}", StringComparison.Ordinal));
    }

    private static int FreeLoopbackPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

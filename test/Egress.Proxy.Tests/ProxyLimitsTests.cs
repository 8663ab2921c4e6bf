using System.Net;
using System.Net.Sockets;
using System.Text;
using Egress.Proxy.Tests.Support;
using Egress.TestUtils;

namespace Egress.Proxy.Tests;

public sealed class ProxyLimitsTests
{
    [Fact]
    public async Task OversizedHeaders_Answer431()
    {
        await using var proxy = TestProxy.Start("example.com", new ProxyOptions { MaxHeaderBytes = 4096 });

        var response = await proxy.SendRawAsync($"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nX-Big: {new string('a', 8000)}\r\n\r\n");
        var curl = await Curl.RunAsync("-o", "/dev/null", "-w", "%{http_code}", "-x", proxy.Url, "-H", "X-Big: " + new string('b', 6000), "http://example.com/");

        Assert.StartsWith("HTTP/1.1 431 ", response, StringComparison.Ordinal);
        Assert.Equal("431", curl.StdOut);
        Assert.Empty(proxy.ProxyEvents());
    }

    [Fact]
    public async Task OverlongRequestLine_Answers414()
    {
        await using var proxy = TestProxy.Start("example.com", new ProxyOptions { MaxRequestLineBytes = 1024 });

        var response = await proxy.SendRawAsync($"GET http://example.com/{new string('a', 2000)} HTTP/1.1\r\nHost: example.com\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 414 ", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SlowClient_Gets408AndTheConnectionIsClosed()
    {
        await using var proxy = TestProxy.Start("example.com", new ProxyOptions { HeaderTimeout = TimeSpan.FromMilliseconds(500) });
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        var stream = client.GetStream();

        await stream.WriteAsync(Encoding.ASCII.GetBytes("GET http://example.com/ HTTP/1.1\r\nHost: exa"));
        var response = await TestProxy.ReadToEndAsync(stream);

        Assert.StartsWith("HTTP/1.1 408 ", response, StringComparison.Ordinal);
        Assert.Equal(0, await stream.ReadAsync(new byte[1]));
    }

    [Fact]
    public async Task IdleTunnel_IsClosedAfterIdleTimeout()
    {
        using var origin = new MiniHttpServer();
        await using var proxy = TestProxy.Start("127.0.0.1", new ProxyOptions { IdleTimeout = TimeSpan.FromMilliseconds(500) });
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        var stream = client.GetStream();

        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT 127.0.0.1:{origin.Port} HTTP/1.1\r\n\r\n"));
        var all = await TestProxy.ReadToEndAsync(stream);

        Assert.Equal("HTTP/1.1 200 Connection Established\r\n\r\n", all);
    }

    [Fact]
    public async Task SlowUpstreamConnect_DoesNotCountAsIdle()
    {
        // The proxy's connect takes about a second — longer than the idle timeout, which must not run meanwhile.
        using var slow = await SlowConnectListener.StartAsync();
        await using var proxy = TestProxy.Start("127.0.0.1", new ProxyOptions { IdleTimeout = TimeSpan.FromMilliseconds(300) });
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT 127.0.0.1:{slow.Port} HTTP/1.1\r\n\r\n"));

        bool dropped = await slow.WaitForDroppedSynAsync();
        await Task.Delay(700); // the idle timeout twice over
        await slow.MakeRoomAsync();
        var all = await TestProxy.ReadToEndAsync(stream);

        Assert.True(dropped, "the kernel never dropped the proxy's SYN: the connect was not slow and the test proved nothing");
        Assert.Equal("HTTP/1.1 200 Connection Established\r\n\r\n", all);
    }

    [Fact]
    public async Task MaxConnections_FurtherClientsGet503()
    {
        await using var proxy = TestProxy.Start("example.com", new ProxyOptions { MaxConnections = 1 });
        using var first = new TcpClient();
        await first.ConnectAsync(IPAddress.Loopback, proxy.Port);
        await first.GetStream().WriteAsync("GET http://exa"u8.ToArray());
        for (int i = 0; i < 500 && proxy.Server.ActiveConnections == 0; i++)
        {
            await Task.Delay(20);
        }

        var response = await proxy.SendRawAsync("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 503 ", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shutdown_ClosesIdleConnectionsAndStopsListening()
    {
        var proxy = TestProxy.Start("example.com");
        int port = proxy.Port;
        using var idle = new TcpClient();
        await idle.ConnectAsync(IPAddress.Loopback, port);
        var stream = idle.GetStream();
        await stream.WriteAsync("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        var buffer = new byte[1024];
        int n = await stream.ReadAsync(buffer);
        Assert.Contains("200 OK", Encoding.ASCII.GetString(buffer, 0, n), StringComparison.Ordinal);

        await proxy.DisposeAsync();

        Assert.Equal(string.Empty, await TestProxy.ReadToEndAsync(stream));
        using var late = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => late.ConnectAsync(IPAddress.Loopback, port));
    }
}

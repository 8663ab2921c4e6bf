using System.Net;
using System.Net.Sockets;
using System.Text;
using Egress.Proxy.Tests.Support;

namespace Egress.Proxy.Tests;

/// <summary>
/// Heads that can never become valid are refused at once (not after the header timeout), and upstream
/// status codes that change how the connection is framed are only honoured when the request allows them.
/// </summary>
public sealed class FramingEdgeCaseTests
{
    // Long enough that a proxy waiting for the timeout answers nothing within TestProxy's 15 s read bound.
    private static readonly ProxyOptions SlowTimeout = new() { HeaderTimeout = TimeSpan.FromSeconds(60) };

    [Theory]
    [InlineData("GET http://127.0.0.1:1/ HTTP/1.1\nHost: 127.0.0.1:1\n\n")]
    [InlineData("GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: 127.0.0.1:1\n\r\n")]
    [InlineData("GET http://127.0.0.1:1/ HTTP/1.1\nHost: 127.0.0.1:1\r\n")]
    [InlineData("CONNECT 127.0.0.1:1 HTTP/1.1\n\n")]
    [InlineData("GET http://127.0.0.1:1/ HTTP/1.1\rHost: 127.0.0.1:1\r\r")]
    [InlineData("GET http://127.0.0.1:1/ HTTP/1.1\r\nX-A: \0\r\n")]
    [InlineData("\n")]
    public async Task HeadThatCanNeverBeValid_Gets400AtOnce(string head)
    {
        await using var proxy = TestProxy.Start("127.0.0.1", SlowTimeout);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        var stream = client.GetStream();

        // The head is left unfinished: only its line endings tell that it cannot be valid.
        await stream.WriteAsync(Encoding.Latin1.GetBytes(head));
        var response = await TestProxy.ReadToEndAsync(stream);

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HeadSplitAtItsCrLf_IsStillAccepted()
    {
        using var origin = new MiniHttpServer();
        await using var proxy = TestProxy.Start("127.0.0.1", SlowTimeout);
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        var stream = client.GetStream();
        string head = $"GET http://127.0.0.1:{origin.Port}/split HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\nConnection: close\r\n\r\n";

        foreach (var piece in head.Split('\n'))
        {
            await stream.WriteAsync(Encoding.Latin1.GetBytes(piece));
            await stream.FlushAsync();
            await Task.Delay(20);
            if (!ReferenceEquals(piece, head.Split('\n')[^1]))
            {
                await stream.WriteAsync("\n"u8.ToArray());
            }
        }

        var response = await TestProxy.ReadToEndAsync(stream);
        Assert.StartsWith("HTTP/1.1 200 ", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BareLfResponseHead_Gets502AtOnce()
    {
        using var origin = new ScriptedOrigin("HTTP/1.1 200 OK\nContent-Length: 2\n\nok");
        await using var proxy = TestProxy.Start("127.0.0.1", SlowTimeout);

        var response = await proxy.SendRawAsync($"GET http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 502 ", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unsolicited101_IsNotATunnel_ClientGets502AndNothingPasses()
    {
        using var origin = new ScriptedOrigin("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\nFROM-ORIGIN");
        await using var proxy = TestProxy.Start("127.0.0.1");
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        var stream = client.GetStream();

        // A request without Upgrade, then bytes that would flow to the origin if the connection became a tunnel.
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\n\r\n"));
        await stream.WriteAsync("SMUGGLED-BYTES\r\n\r\n"u8.ToArray());
        var response = await TestProxy.ReadToEndAsync(stream);
        client.Close();
        string received = await origin.Received;

        Assert.StartsWith("HTTP/1.1 502 ", response, StringComparison.Ordinal);
        Assert.DoesNotContain("101", response, StringComparison.Ordinal);
        Assert.DoesNotContain("FROM-ORIGIN", response, StringComparison.Ordinal);
        Assert.DoesNotContain("SMUGGLED", received, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Solicited101_BecomesATunnel()
    {
        using var origin = new ScriptedOrigin("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\nFROM-ORIGIN");
        await using var proxy = TestProxy.Start("127.0.0.1");
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        var stream = client.GetStream();

        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"));
        var buffer = new byte[4096];
        var seen = new StringBuilder();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (!seen.ToString().Contains("FROM-ORIGIN", StringComparison.Ordinal))
        {
            int n = await stream.ReadAsync(buffer, cts.Token);
            Assert.NotEqual(0, n);
            seen.Append(Encoding.Latin1.GetString(buffer, 0, n));
        }

        await stream.WriteAsync("TUNNELLED"u8.ToArray());
        client.Client.Shutdown(SocketShutdown.Send);
        await TestProxy.ReadToEndAsync(stream);
        client.Close();

        Assert.StartsWith("HTTP/1.1 101 ", seen.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("TUNNELLED", await origin.Received, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upgrade101WithoutUpgradeField_Gets502()
    {
        using var origin = new ScriptedOrigin("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n\r\n");
        await using var proxy = TestProxy.Start("127.0.0.1");

        var response = await proxy.SendRawAsync($"GET http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\nUpgrade: websocket\r\nConnection: upgrade, close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 502 ", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Interim100_IsNotForwardedToAnHttp10Client()
    {
        // RFC 9110 15.2: a 1xx must not go to an HTTP/1.0 client, which would take it for the final response.
        using var origin = new ScriptedOrigin("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        await using var proxy = TestProxy.Start("127.0.0.1");

        var response = await proxy.SendRawAsync($"GET http://127.0.0.1:{origin.Port}/ HTTP/1.0\r\nHost: 127.0.0.1:{origin.Port}\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200 ", response, StringComparison.Ordinal);
        Assert.EndsWith("ok", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Interim100_IsForwardedToAnHttp11Client()
    {
        using var origin = new ScriptedOrigin("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        await using var proxy = TestProxy.Start("127.0.0.1");

        var response = await proxy.SendRawAsync($"GET http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 ", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EndlessInterimResponses_AreCutWith502()
    {
        using var origin = new ScriptedOrigin(string.Concat(Enumerable.Repeat("HTTP/1.1 102 Processing\r\n\r\n", 200)));
        await using var proxy = TestProxy.Start("127.0.0.1");

        var response = await proxy.SendRawAsync($"GET http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\nConnection: close\r\n\r\n");

        Assert.Contains("HTTP/1.1 502 ", response, StringComparison.Ordinal);
        Assert.True(response.Split("102 Processing").Length - 1 < 200, "all interim responses were relayed");
    }

    [Fact]
    public async Task NoContent204WithBodyBytes_DoesNotLeakIntoTheNextResponse()
    {
        using var origin = new ScriptedOrigin("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil");
        await using var proxy = TestProxy.Start("127.0.0.1");
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        var stream = client.GetStream();
        string request = $"GET http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\n\r\n";

        await stream.WriteAsync(Encoding.ASCII.GetBytes(request + request.Replace("HTTP/1.1\r\n", "HTTP/1.1\r\nConnection: close\r\n", StringComparison.Ordinal)));
        var response = await TestProxy.ReadToEndAsync(stream);

        Assert.StartsWith("HTTP/1.1 204 ", response, StringComparison.Ordinal);
        Assert.DoesNotContain("evil", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TlsSpokenToThePlainProxyPort_Gets400AtOnce()
    {
        // A client configured with an https:// proxy URL speaks TLS first; its ClientHello has no CRLF CRLF.
        await using var proxy = TestProxy.Start("127.0.0.1", SlowTimeout);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        var stream = client.GetStream();

        await stream.WriteAsync(new ClientHelloBuilder().WithServerName("proxy.example").Build());
        var response = await TestProxy.ReadToEndAsync(stream);

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResponseWithTransferEncodingAndContentLength_IsRelayedWithoutTheContentLength()
    {
        // RFC 9112 6.3: Transfer-Encoding overrides; an intermediary forwarding such a message must drop
        // Content-Length, or a client that trusts it could read the rest as the next (other host's) response.
        using var origin = new ScriptedOrigin("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
        await using var proxy = TestProxy.Start("127.0.0.1");

        var response = await proxy.SendRawAsync($"GET http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200 ", response, StringComparison.Ordinal);
        Assert.DoesNotContain("Content-Length", response, StringComparison.OrdinalIgnoreCase);
        Assert.EndsWith("5\r\nhello\r\n0\r\n\r\n", response, StringComparison.Ordinal);
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;
using Egress.Proxy.Tests.Support;

namespace Egress.Proxy.Tests;

/// <summary>
/// A plain-HTTP response's head goes out together with the body bytes that came with it (one write). These pin
/// the edges of that: only the framed body is taken (never bytes past it), and a body that arrives in pieces
/// after the head is still relayed whole, with the connection kept alive for the next request.
/// </summary>
public sealed class ResponseRelayTests
{
    [Fact]
    public async Task BytesPastTheFramedBody_AreNotRelayed()
    {
        // The origin sends more than Content-Length says, in the same write as the head.
        using var origin = new ScriptedOrigin("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA-BYTES");
        await using var proxy = TestProxy.Start("127.0.0.1");
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        var stream = client.GetStream();
        string request = $"GET http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\n";

        // Two requests on one client connection: the second must get its own response, not the leftovers.
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request + "\r\n"));
        string first = await ReadResponseAsync(stream, bodyLength: 5);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request + "Connection: close\r\n\r\n"));
        string rest = await TestProxy.ReadToEndAsync(stream);

        Assert.StartsWith("HTTP/1.1 200 ", first, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\nhello", first, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 200 ", rest, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\nhello", rest, StringComparison.Ordinal);
        Assert.DoesNotContain("EXTRA", first + rest, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BodyArrivingInPiecesAfterTheHead_IsRelayedWhole_AndTheConnectionKeptAlive()
    {
        const string Body = "0123456789abcdefghijklmnopqrstuvwxyz";
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var origin = Task.Run(async () =>
        {
            using var upstream = await listener.AcceptTcpClientAsync(cts.Token);
            upstream.NoDelay = true;
            var s = upstream.GetStream();
            for (int request = 0; request < 2; request++)
            {
                await HttpWire.ReadHeadAsync(s, cts.Token);
                // Head plus the first 3 body bytes in one write, the rest in two later writes.
                await s.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {Body.Length}\r\n\r\n{Body[..3]}"), cts.Token);
                await Task.Delay(50, cts.Token);
                await s.WriteAsync(Encoding.ASCII.GetBytes(Body[3..20]), cts.Token);
                await Task.Delay(50, cts.Token);
                await s.WriteAsync(Encoding.ASCII.GetBytes(Body[20..]), cts.Token);
            }
        });

        await using var proxy = TestProxy.Start("127.0.0.1");
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        var stream = client.GetStream();
        string request = $"GET http://127.0.0.1:{port}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n";
        var responses = new List<string>();
        for (int i = 0; i < 2; i++)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
            responses.Add(await ReadResponseAsync(stream, Body.Length));
        }

        await origin; // both requests reached the one upstream connection (the origin accepts only one)
        Assert.All(responses, r => Assert.EndsWith("\r\n\r\n" + Body, r, StringComparison.Ordinal));
    }

    // Reads one response with a Content-Length body of bodyLength bytes (and nothing more).
    private static async Task<string> ReadResponseAsync(NetworkStream stream, int bodyLength)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        return await HttpWire.ReadResponseAsync(stream, bodyLength, cts.Token);
    }
}

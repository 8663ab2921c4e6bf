using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using CsCheck;
using Egress.Proxy.Http;
using Egress.Proxy.Tests.Support;

namespace Egress.Proxy.Tests;

/// <summary>
/// Review of the hot-path changes (head and early body in one pooled write, span-split Connection lists, the
/// UpstreamKey, tunnels closing without shutdown, the first head read without a zero-byte wait). Every test
/// runs on real loopback sockets with bounded waits.
/// </summary>
public sealed class ReviewFindingsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task EdgeResponses_OnOneKeptAliveClientConnection_AreEachFramedExactly_NothingLostOrDuplicated()
    {
        // Each entry: the request method, the origin's bytes (one write), the body the client must get.
        var script = new (string Method, string Response, string Body, bool NoContentLength)[]
        {
            ("HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", "", false),
            ("GET", "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", "", false),
            ("GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\nETag: \"x\"\r\n\r\n", "", false),
            ("GET", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "", false),
            ("GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst", "first", false),
            ("GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "5\r\nhello\r\n0\r\n\r\n", true),
            ("GET", "HTTP/1.1 100 Continue\r\nContent-Length: 9\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond", "second", false),
            ("HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nLEAKYthird", "", false),
            ("GET", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcEXTRA", "abc", false),
            ("GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nlast!", "last!", false),
        };
        using var origin = new SequenceOrigin(script.Select(s => Encoding.Latin1.GetBytes(s.Response)).ToArray());
        await using var proxy = TestProxy.Start("127.0.0.1");
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        var stream = client.GetStream();

        for (int i = 0; i < script.Length; i++)
        {
            var (method, _, body, noLength) = script[i];
            string close = i == script.Length - 1 ? "Connection: close\r\n" : "";
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"{method} http://127.0.0.1:{origin.Port}/{i} HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\n{close}\r\n"));
            string head = await ReadHeadAsync(stream);
            if (i == 6)
            {
                // The interim response is passed on verbatim, then the final one follows.
                Assert.StartsWith("HTTP/1.1 100 ", head, StringComparison.Ordinal);
                head = await ReadHeadAsync(stream);
            }

            Assert.StartsWith("HTTP/1.1 ", head, StringComparison.Ordinal);
            Assert.Equal(!noLength, head.Contains("Content-Length", StringComparison.OrdinalIgnoreCase));
            var got = new byte[body.Length];
            await stream.ReadExactlyAsync(got).AsTask().WaitAsync(Bound);
            Assert.Equal(body, Encoding.Latin1.GetString(got));
        }

        // After the last (Connection: close) response nothing more may come: no leftovers of earlier bodies.
        string rest = await TestProxy.ReadToEndAsync(stream);
        Assert.Equal("", rest);
    }

    [Fact]
    public async Task LargeResponseHead_ManyFieldsWithoutSpaces_AndLatin1Values_RoundTripByteExact_WithBodyInTheSameWrite()
    {
        // Fields written "name:value" (no space) come out one byte longer each ("name: value"), so the pooled
        // head outgrows its first rental (Writer.Ensure) while body bytes follow it in the same buffer.
        var head = new StringBuilder("HTTP/1.1 200 \u00e9t\u00e9\r\n");
        var expectedFields = new List<string>();
        for (int i = 0; i < 120; i++)
        {
            string value = $"caf\u00e9-\u00ff\u0080\u00a0-{i}-" + new string((char)(0x80 + (i % 0x80)), 200);
            head.Append(FieldName(i)).Append(':').Append(value).Append("\r\n");
            expectedFields.Add($"{FieldName(i)}: {value}\r\n");
        }

        var body = new byte[3000];
        new Random(5).NextBytes(body);
        head.Append("Content-Length: ").Append(body.Length).Append("\r\n\r\n");
        byte[] first = [.. Encoding.Latin1.GetBytes(head.ToString()), .. body];
        byte[] second = Encoding.Latin1.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext");
        Assert.True(first.Length > 24 * 1024);
        using var origin = new SequenceOrigin([first, second]);
        await using var proxy = TestProxy.Start("127.0.0.1");
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        var stream = client.GetStream();
        string request = $"GET http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\n";

        await stream.WriteAsync(Encoding.ASCII.GetBytes(request + "\r\n"));
        string got = await ReadHeadAsync(stream);
        var gotBody = new byte[body.Length];
        await stream.ReadExactlyAsync(gotBody).AsTask().WaitAsync(Bound);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request + "Connection: close\r\n\r\n"));
        string rest = await TestProxy.ReadToEndAsync(stream);

        Assert.StartsWith("HTTP/1.1 200 \u00e9t\u00e9\r\n", got, StringComparison.Ordinal);
        foreach (string field in expectedFields)
        {
            Assert.Contains(field, got, StringComparison.Ordinal);
        }

        Assert.Equal(body, gotBody);
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", rest, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\nnext", rest, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LargeRequestHead_WithLatin1Values_ReachesTheOriginByteExact()
    {
        // The request head's pooled writer starts at 256 bytes: ~20 KiB of fields make it grow many times.
        var fields = new StringBuilder();
        var expected = new List<string>();
        for (int i = 0; i < 100; i++)
        {
            string value = $"\u00e9\u00ff\u0080-{i}-" + new string((char)(0xA0 + (i % 0x5F)), 200);
            fields.Append(FieldName(i)).Append(": ").Append(value).Append("\r\n");
            expected.Add($"{FieldName(i)}: {value}\r\n");
        }

        using var origin = new SequenceOrigin([Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")]);
        await using var proxy = TestProxy.Start("127.0.0.1");
        string path = "/p?q=" + new string('a', 6000); // a long request line: the first Line() outgrows 256 bytes at once
        string response = await proxy.SendRawAsync($"GET http://127.0.0.1:{origin.Port}{path} HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\n{fields}Connection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200 OK", response, StringComparison.Ordinal);
        Assert.EndsWith("ok", response, StringComparison.Ordinal);
        string seen = Assert.Single(origin.Requests);
        Assert.StartsWith($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\n", seen, StringComparison.Ordinal);
        foreach (string field in expected)
        {
            Assert.Contains(field, seen, StringComparison.Ordinal);
        }

        Assert.EndsWith("\r\n\r\n", seen, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LargeBodyInTheSameWriteAsTheHead_IsRelayedWhole_ThenTheNextRequestIsServed()
    {
        var body = new byte[300 * 1024];
        new Random(11).NextBytes(body);
        byte[] first = [.. Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n"), .. body];
        using var origin = new SequenceOrigin([first, Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nend")]);
        await using var proxy = TestProxy.Start("127.0.0.1");
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        var stream = client.GetStream();
        string request = $"GET http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\n";

        await stream.WriteAsync(Encoding.ASCII.GetBytes(request + "\r\n"));
        await ReadHeadAsync(stream);
        var got = new byte[body.Length];
        await stream.ReadExactlyAsync(got).AsTask().WaitAsync(Bound);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request + "Connection: close\r\n\r\n"));
        string rest = await TestProxy.ReadToEndAsync(stream);

        Assert.Equal(SHA256.HashData(body), SHA256.HashData(got));
        Assert.EndsWith("\r\n\r\nend", rest, StringComparison.Ordinal);
        Assert.Equal(1, origin.Connections);
    }

    [Fact]
    public async Task BodyShorterThanContentLength_ThenOriginCloses_ClientConnectionIsClosed_NotReused()
    {
        using var origin = new SequenceOrigin([Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")], closeAfterEach: true);
        await using var proxy = TestProxy.Start("127.0.0.1");
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\n\r\n"));

        string all = await TestProxy.ReadToEndAsync(stream);

        // The short body is passed on as it came, then the client connection ends (a truncated response must
        // not be followed by anything that could be taken for its remaining bytes).
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", all, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\nabc", all, StringComparison.Ordinal);
    }

    [Fact]
    public void SplitListContains_MatchesTheOldStringSplitSemantics()
    {
        // Old: Value.Split(',', TrimEntries | RemoveEmptyEntries).Any(p => p.Equals(token, OrdinalIgnoreCase)).
        var piece = Gen.OneOf(Gen.Const("close"), Gen.Const("CLOSE"), Gen.Const("keep-alive"), Gen.Const("upgrade"), Gen.Const(" "), Gen.Const("\t"),
            Gen.Const(","), Gen.Const("clo se"), Gen.Const("closed"), Gen.Const("\u00a0close"), Gen.Const("\u0085"), Gen.Const("close\u00a0"), Gen.Const("\u00e9"), Gen.String[Gen.Char["a-zA-Z ,\t-"], 0, 6]);
        var gen = Gen.Select(piece.Array[0, 8], Gen.OneOf(Gen.Const("close"), Gen.Const("upgrade"), Gen.Const("x-a")));
        gen.Sample((parts, token) =>
        {
            string value = string.Concat(parts).Trim(' ', '\t');
            if (value.Length == 0)
            {
                return;
            }

            var head = HeadParser.ParseResponse(Encoding.Latin1.GetBytes($"HTTP/1.1 200 OK\r\nConnection: {value}\r\n\r\n"), 10);
            bool old = head.Get("Connection")!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Any(p => p.Equals(token, StringComparison.OrdinalIgnoreCase));
            Assert.Equal(old, head.ListContains("Connection", token));
        }, iter: 5000);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ConnectTunnel_DataThenImmediateFin_EachPeerGetsEveryByte_AndAnOrderlyEnd(bool upstreamFirst)
    {
        // Sizes straddling the 16 KiB short-splice threshold and the 64 KiB pipe, sent as separate bursts.
        int[] bursts = [1, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 64 * 1024, 200 * 1024];
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        await using var proxy = TestProxy.Start("127.0.0.1");
        var (client, upstream) = await OpenTunnelAsync(proxy, listener);
        using var clientOwned = client;
        using var upstreamOwned = upstream;

        // Non-TLS first byte ('P'), so the tunnel is not held for a ClientHello.
        var (fromClient, clientHash) = Pattern(bursts, 'P');
        var (fromUpstream, upstreamHash) = Pattern(bursts, 'Q');
        Task<(byte[] Hash, long Length, bool Reset)> atUpstream, atClient;
        if (upstreamFirst)
        {
            await SendBurstsAsync(upstream, fromUpstream, bursts);
            atClient = ReceiveToEndAsync(client);
            await atClient.WaitAsync(Bound);
            await SendBurstsAsync(client, fromClient, bursts);
            atUpstream = ReceiveToEndAsync(upstream);
        }
        else
        {
            await SendBurstsAsync(client, fromClient, bursts);
            atUpstream = ReceiveToEndAsync(upstream);
            await atUpstream.WaitAsync(Bound);
            await SendBurstsAsync(upstream, fromUpstream, bursts);
            atClient = ReceiveToEndAsync(client);
        }

        var up = await atUpstream.WaitAsync(Bound);
        var down = await atClient.WaitAsync(Bound);
        Assert.False(up.Reset, "the destination saw a reset instead of an orderly end");
        Assert.False(down.Reset, "the client saw a reset instead of an orderly end");
        Assert.Equal(fromClient.Length, up.Length);
        Assert.Equal(fromUpstream.Length, down.Length);
        Assert.Equal(clientHash, up.Hash);
        Assert.Equal(upstreamHash, down.Hash);
        await WaitForNoConnectionsAsync(proxy);
    }

    [Fact]
    public async Task ConnectTunnel_SlowReaderOfALargeTransfer_GetsEveryByte_AndAnOrderlyEnd()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        await using var proxy = TestProxy.Start("127.0.0.1");
        var (client, upstream) = await OpenTunnelAsync(proxy, listener, clientReceiveBuffer: 8 * 1024);
        using var clientOwned = client;
        using var upstreamOwned = upstream;

        // The client says its piece and half-closes at once; the destination then streams 8 MiB and closes
        // while the reader is still slow (bytes still in the proxy's pipe when the destination's FIN arrives).
        await client.SendAsync("PING"u8.ToArray(), SocketFlags.None);
        client.Shutdown(SocketShutdown.Send);
        var ping = await ReceiveToEndAsync(upstream).WaitAsync(Bound);
        Assert.Equal(4, ping.Length);
        var (data, hash) = Pattern([8 * 1024 * 1024], 'Z');
        var sending = SendBurstsAsync(upstream, data, [data.Length]);
        var down = await ReceiveToEndAsync(client, slow: true).WaitAsync(TimeSpan.FromSeconds(60));
        await sending.WaitAsync(Bound);

        Assert.False(down.Reset, "the client saw a reset instead of an orderly end");
        Assert.Equal(data.Length, down.Length);
        Assert.Equal(hash, down.Hash);
        await WaitForNoConnectionsAsync(proxy);
    }

    [Fact]
    public async Task ConnectTunnel_DestinationResets_ClientConnectionEnds()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        await using var proxy = TestProxy.Start("127.0.0.1");
        var (client, upstream) = await OpenTunnelAsync(proxy, listener);
        using var clientOwned = client;
        await upstream.SendAsync("hi"u8.ToArray(), SocketFlags.None);
        upstream.LingerState = new LingerOption(true, 0);
        upstream.Dispose(); // RST

        var down = await ReceiveToEndAsync(client).WaitAsync(Bound);

        Assert.True(down.Length <= 2);
        await WaitForNoConnectionsAsync(proxy);
    }

    [Fact]
    public async Task SilentNewConnection_Gets408_AndIsClosed()
    {
        await using var proxy = TestProxy.Start("127.0.0.1", new ProxyOptions { HeaderTimeout = TimeSpan.FromMilliseconds(400) });
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);

        string response = await TestProxy.ReadToEndAsync(client.GetStream());

        Assert.StartsWith("HTTP/1.1 408 ", response, StringComparison.Ordinal);
        await WaitForNoConnectionsAsync(proxy);
    }

    [Fact]
    public async Task ConnectionsThatCloseOrResetAtOnce_LeaveNothingBehind_AndTheProxyServesTheNext()
    {
        using var origin = new SequenceOrigin([Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")]);
        await using var proxy = TestProxy.Start("127.0.0.1");
        for (int i = 0; i < 40; i++)
        {
            using var quick = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await quick.ConnectAsync(IPAddress.Loopback, proxy.Port);
            if (i % 2 == 0)
            {
                quick.LingerState = new LingerOption(true, 0); // RST
            }
        }

        await WaitForNoConnectionsAsync(proxy);
        string response = await proxy.SendRawAsync($"GET http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\nConnection: close\r\n\r\n");
        Assert.EndsWith("\r\n\r\nok", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HeadSentOneByteAtATime_IsServed_ThenAKeptAliveRequestToo()
    {
        using var origin = new SequenceOrigin([
            Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"),
            Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo")]);
        await using var proxy = TestProxy.Start("127.0.0.1");
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        string request = $"GET http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\n\r\n";
        using var stream = new NetworkStream(client, ownsSocket: false);

        foreach (byte b in Encoding.ASCII.GetBytes(request))
        {
            await client.SendAsync(new[] { b }, SocketFlags.None);
            await Task.Delay(2);
        }

        await ReadHeadAsync(stream);
        var one = new byte[3];
        await stream.ReadExactlyAsync(one).AsTask().WaitAsync(Bound);
        foreach (byte b in Encoding.ASCII.GetBytes(request))
        {
            await client.SendAsync(new[] { b }, SocketFlags.None);
        }

        await ReadHeadAsync(stream);
        var two = new byte[3];
        await stream.ReadExactlyAsync(two).AsTask().WaitAsync(Bound);

        Assert.Equal("one", Encoding.ASCII.GetString(one));
        Assert.Equal("two", Encoding.ASCII.GetString(two));
    }

    [Fact]
    public async Task KeptAliveUpstream_OfOneRole_IsNotReused_ForAnotherRolesRequestOnTheSameClientConnection()
    {
        // The default role may reach nothing; role "ci" (by Proxy-Authorization) may reach the origin. After a ci
        // request leaves a kept-alive upstream, an anonymous request for the same destination on the same client
        // connection must be decided again (403), never ride the ci role's connection.
        using var origin = new SequenceOrigin([
            Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nci"),
            Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nLEAK")]);
        await using var gateway = Roles.RoleGateway.Start($"""
            [role ci]
            match user ci-bot sha256:1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0
            127.0.0.1:{origin.Port}
            """);
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, gateway.Port);
        var stream = client.GetStream();
        string request = $"GET http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\n";
        string auth = "Proxy-Authorization: Basic " + Convert.ToBase64String(Encoding.ASCII.GetBytes("ci-bot:s3cret")) + "\r\n";

        await stream.WriteAsync(Encoding.ASCII.GetBytes(request + auth + "\r\n"));
        string first = await ReadHeadAsync(stream);
        var body = new byte[2];
        await stream.ReadExactlyAsync(body).AsTask().WaitAsync(Bound);
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request + "Connection: close\r\n\r\n"));
        string second = await TestProxy.ReadToEndAsync(stream);

        Assert.StartsWith("HTTP/1.1 200 ", first, StringComparison.Ordinal);
        Assert.Equal("ci", Encoding.ASCII.GetString(body));
        Assert.StartsWith("HTTP/1.1 403 ", second, StringComparison.Ordinal);
        Assert.DoesNotContain("LEAK", second, StringComparison.Ordinal);
        Assert.Single(origin.Requests);
    }

    [Fact]
    public async Task Upgrade_AfterAKeptAliveResponse_WithEarlyBytesBothWays_AndHalfCloses_LosesNothing()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var cts = new CancellationTokenSource(Bound);
        var origin = Task.Run(async () =>
        {
            using var upstream = await listener.AcceptSocketAsync(cts.Token);
            using var s = new NetworkStream(upstream, ownsSocket: false);
            await ReadHeadAsync(s);
            await upstream.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), SocketFlags.None, cts.Token);
            string upgrade = await ReadHeadAsync(s);
            await upstream.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x-test\r\nConnection: upgrade\r\n\r\nSRV"), SocketFlags.None, cts.Token);
            var tunnelled = await ReceiveToEndAsync(upstream);
            await upstream.SendAsync("BYE"u8.ToArray(), SocketFlags.None, cts.Token);
            upstream.Shutdown(SocketShutdown.Send);
            return (upgrade, tunnelled);
        });
        await using var proxy = TestProxy.Start("127.0.0.1");
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        using var stream = new NetworkStream(client, ownsSocket: false);
        string request = $"GET http://127.0.0.1:{port}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n";

        await client.SendAsync(Encoding.ASCII.GetBytes(request + "\r\n"), SocketFlags.None);
        await ReadHeadAsync(stream);
        var ok = new byte[2];
        await stream.ReadExactlyAsync(ok).AsTask().WaitAsync(Bound);
        await client.SendAsync(Encoding.ASCII.GetBytes(request + "Upgrade: x-test\r\nConnection: upgrade\r\n\r\nCLI"), SocketFlags.None);
        string switched = await ReadHeadAsync(stream);
        var srv = new byte[3];
        await stream.ReadExactlyAsync(srv).AsTask().WaitAsync(Bound);
        client.Shutdown(SocketShutdown.Send);
        var rest = new MemoryStream();
        await stream.CopyToAsync(rest, cts.Token);
        var (upgradeHead, tunnelled) = await origin.WaitAsync(Bound);

        Assert.Equal("ok", Encoding.ASCII.GetString(ok));
        Assert.StartsWith("HTTP/1.1 101 ", switched, StringComparison.Ordinal);
        Assert.Equal("SRV", Encoding.ASCII.GetString(srv));
        Assert.StartsWith("GET / HTTP/1.1\r\n", upgradeHead, StringComparison.Ordinal);
        Assert.False(tunnelled.Reset);
        Assert.Equal(3, tunnelled.Length);
        Assert.Equal(SHA256.HashData("CLI"u8), tunnelled.Hash);
        Assert.Equal("BYE", Encoding.ASCII.GetString(rest.ToArray()));
    }

    [Fact]
    public async Task IdleKeptAliveConnection_HoldsNoReceiveBuffer_WhileASilentNewOneHoldsOnlyItsFirst4KiB()
    {
        using var origin = new SequenceOrigin([Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")]);
        await using var proxy = TestProxy.Start("127.0.0.1");
        using var kept = new TcpClient { NoDelay = true };
        await kept.ConnectAsync(IPAddress.Loopback, proxy.Port);
        var stream = kept.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\n\r\n"));
        await ReadHeadAsync(stream);
        await stream.ReadExactlyAsync(new byte[2]).AsTask().WaitAsync(Bound);
        using var silent = new TcpClient();
        await silent.ConnectAsync(IPAddress.Loopback, proxy.Port);

        var connections = (ConcurrentDictionary<long, ProxyConnection>)typeof(EgressProxyServer)
            .GetField("_connections", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(proxy.Server)!;
        for (int i = 0; i < 200 && !(connections.Count == 2 && connections.Values.Any(c => c.IsIdle)); i++)
        {
            await Task.Delay(25);
        }

        var idle = Assert.Single(connections.Values, c => c.IsIdle);
        var fresh = Assert.Single(connections.Values, c => !c.IsIdle);
        Assert.Null(ReaderBuffer(idle, "_clientReader"));
        Assert.Null(ReaderBuffer(idle, "_upstreamReader")); // the kept-alive upstream waits without one too
        for (int i = 0; i < 200 && ReaderBuffer(fresh, "_clientReader") is null; i++)
        {
            await Task.Delay(10); // the accept loop may not have started its first read yet
        }

        Assert.Equal(4 * 1024, ReaderBuffer(fresh, "_clientReader")?.Length ?? 0);
    }

    private static byte[]? ReaderBuffer(ProxyConnection connection, string field)
    {
        var reader = (SocketReader?)typeof(ProxyConnection).GetField(field, BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(connection);
        return reader is null ? null : (byte[]?)typeof(SocketReader).GetField("_buffer", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(reader);
    }

    [Fact]
    public async Task FieldsNamedInConnection_AreDroppedBothWays_WithSpacesAndEmptyListItems()
    {
        using var origin = new SequenceOrigin([Encoding.ASCII.GetBytes(
            "HTTP/1.1 200 OK\r\nConnection: , x-foo ,\t, Close\r\nX-Foo: secret\r\nX-Kept: yes\r\nContent-Length: 2\r\n\r\nok")]);
        await using var proxy = TestProxy.Start("127.0.0.1");

        string response = await proxy.SendRawAsync(
            $"GET http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\nConnection: X-BAR,,close\r\nx-bar: hidden\r\nX-Sent: yes\r\n\r\n");

        Assert.DoesNotContain("secret", response, StringComparison.Ordinal);
        Assert.Contains("X-Kept: yes\r\n", response, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\nok", response, StringComparison.Ordinal);
        string seen = Assert.Single(origin.Requests);
        Assert.DoesNotContain("hidden", seen, StringComparison.Ordinal);
        Assert.Contains("X-Sent: yes\r\n", seen, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NonChunkedTransferEncoding_WithContentLength_IsRelayedUntilClose_WithoutTheContentLength()
    {
        using var origin = new SequenceOrigin([Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabcdef")], closeAfterEach: true);
        await using var proxy = TestProxy.Start("127.0.0.1");

        string response = await proxy.SendRawAsync($"GET http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200 OK\r\n", response, StringComparison.Ordinal);
        Assert.DoesNotContain("Content-Length", response, StringComparison.OrdinalIgnoreCase);
        Assert.EndsWith("\r\n\r\nabcdef", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectTunnel_ClientResets_WhileTheDestinationStreams_TheDestinationIsCut_AndNothingIsLeft()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        await using var proxy = TestProxy.Start("127.0.0.1");
        var (client, upstream) = await OpenTunnelAsync(proxy, listener);
        using var upstreamOwned = upstream;
        var (data, _) = Pattern([64 * 1024 * 1024], 'R');
        var sending = SendBurstsAsync(upstream, data, [data.Length]);
        await ReceiveExactlyAsync(client, new byte[1000]);
        client.LingerState = new LingerOption(true, 0);
        client.Dispose(); // RST

        var failed = await Assert.ThrowsAnyAsync<Exception>(() => sending.WaitAsync(Bound));
        Assert.True(failed is SocketException or IOException, failed.ToString());
        await WaitForNoConnectionsAsync(proxy);
    }

    [Fact]
    public async Task Http10Client_GetsNoInterim_AndTheFinalHeadWithConnectionClose_PlusItsEarlyBodyExactly()
    {
        using var origin = new SequenceOrigin([Encoding.ASCII.GetBytes(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloTRAILING")]);
        await using var proxy = TestProxy.Start("127.0.0.1");

        string response = await proxy.SendRawAsync($"GET http://127.0.0.1:{origin.Port}/ HTTP/1.0\r\nHost: 127.0.0.1:{origin.Port}\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200 OK\r\n", response, StringComparison.Ordinal);
        Assert.DoesNotContain("100 Continue", response, StringComparison.Ordinal);
        Assert.Contains("\r\nConnection: close\r\n", response, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\nhello", response, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Slowloris_OneByteAtATimeForever_StillGets408(bool afterAKeptAliveRequest)
    {
        // Each byte is activity; the head timeout must still run from the head's start, not from the last byte,
        // for a new connection's first head (read without a zero-byte wait) and for a kept-alive one's next head.
        using var origin = new SequenceOrigin([Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")]);
        await using var proxy = TestProxy.Start("127.0.0.1", new ProxyOptions { HeaderTimeout = TimeSpan.FromMilliseconds(500) });
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        if (afterAKeptAliveRequest)
        {
            await client.SendAsync(Encoding.ASCII.GetBytes($"GET http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\n\r\n"), SocketFlags.None);
            using var first = new NetworkStream(client, ownsSocket: false);
            await ReadHeadAsync(first);
            await first.ReadExactlyAsync(new byte[2]).AsTask().WaitAsync(Bound);
        }

        byte[] drip = Encoding.ASCII.GetBytes("GET http://127.0.0.1/ HTTP/1.1\r\nX-Slow: " + new string('a', 4000));
        int sent = 0;
        try
        {
            // Bounded: at most 8 s of dripping (16 times the timeout), stopped as soon as the proxy answers.
            for (; sent < drip.Length && sent < 400 && client.Available == 0; sent++)
            {
                await client.SendAsync(drip.AsMemory(sent, 1), SocketFlags.None);
                await Task.Delay(20);
            }
        }
        catch (SocketException)
        {
            // The proxy closed: read what it said.
        }

        using var stream = new NetworkStream(client, ownsSocket: false);
        string response = await TestProxy.ReadToEndAsync(stream);
        Assert.StartsWith("HTTP/1.1 408 ", response, StringComparison.Ordinal);
        Assert.True(sent < 400, $"still reading the head after {sent} bytes");
    }

    [Theory]
    [InlineData("5\u00a0")]
    [InlineData("\u00a05")]
    [InlineData("5\u0085")]
    [InlineData("5,\u00a05")]
    public async Task RequestContentLength_WithNonOwsWhitespace_IsRefused_NotForwardedAsIs(string value)
    {
        // RFC 9110 8.6: Content-Length = 1*DIGIT; RFC 9112 5.1: only SP/HTAB (OWS) may surround a field value.
        // MessageFraming.ContentLength trims with string.Split(TrimEntries), i.e. char.IsWhiteSpace, so a Latin-1
        // NBSP (0xA0) or NEL (0x85) inside the value is dropped: the proxy frames the body as 5 bytes, then sends the
        // field on verbatim ("5\xA0"), which a destination may read as invalid, 0, or no body at all, leaving the
        // "body" to be parsed as a second request the proxy never decided (request smuggling past the policy).
        using var origin = new SequenceOrigin([Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")]);
        await using var proxy = TestProxy.Start("127.0.0.1");

        string response = await proxy.SendRawAsync(
            $"POST http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\nContent-Length: {value}\r\nConnection: close\r\n\r\nhello");

        Assert.StartsWith("HTTP/1.1 400 ", response, StringComparison.Ordinal);
        Assert.Empty(origin.Requests);
    }

    [Fact]
    public async Task ConcurrentKeptAliveClients_EachGetOnlyTheirOwnBytes_NoPooledBufferBleedsAcrossRequests()
    {
        // Pooled heads (and the early body copied into them) are rented and returned on every response: a buffer
        // returned twice or used after return would show as one client's bytes in another's response.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        const int Clients = 6, Requests = 40;
        var serving = Task.Run(async () =>
        {
            var served = new List<Task>();
            for (int c = 0; c < Clients; c++)
            {
                var socket = await listener.AcceptSocketAsync(cts.Token);
                served.Add(Task.Run(async () =>
                {
                    using var owned = socket;
                    using var s = new NetworkStream(socket, ownsSocket: false);
                    for (int r = 0; r < Requests; r++)
                    {
                        string head = await ReadHeadAsync(s);
                        string path = head.Split(' ')[1];
                        byte[] body = BodyFor(path);
                        byte[] response = [.. Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nX-Path: {path}\r\nContent-Length: {body.Length}\r\n\r\n"), .. body];
                        int split = path.Length % 3 == 0 ? response.Length : response.Length - (body.Length / 2);
                        await socket.SendAsync(response.AsMemory(0, split), SocketFlags.None, cts.Token);
                        if (split < response.Length)
                        {
                            await socket.SendAsync(response.AsMemory(split), SocketFlags.None, cts.Token);
                        }
                    }
                }));
            }

            await Task.WhenAll(served);
        });
        await using var proxy = TestProxy.Start("127.0.0.1");

        var clients = Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            using var client = new TcpClient { NoDelay = true };
            await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
            var stream = client.GetStream();
            var random = new Random(c);
            for (int r = 0; r < Requests; r++)
            {
                string path = $"/c{c}/r{r}/{random.Next(0, 20000)}";
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET http://127.0.0.1:{port}{path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"), cts.Token);
                string head = await ReadHeadAsync(stream);
                Assert.Contains($"X-Path: {path}\r\n", head, StringComparison.Ordinal);
                byte[] expected = BodyFor(path);
                var got = new byte[expected.Length];
                await stream.ReadExactlyAsync(got, cts.Token);
                Assert.True(expected.AsSpan().SequenceEqual(got), $"body of {path} differs");
            }
        })).ToArray();

        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(60));
        await serving.WaitAsync(Bound);
    }

    private static byte[] BodyFor(string path)
    {
        int size = int.Parse(path[(path.LastIndexOf('/') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var body = new byte[size];
        new Random(path.GetHashCode(StringComparison.Ordinal)).NextBytes(body);
        return body;
    }

    [Fact]
    public async Task ResponseContentLength_WithNbsp_IsRefused_NotRelayedAsIs()
    {
        // Same leniency on responses: "5\xA0" framed as 5 and sent on verbatim to a client that may frame it otherwise.
        using var origin = new SequenceOrigin([Encoding.Latin1.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 5\u00a0\r\n\r\nhello")]);
        await using var proxy = TestProxy.Start("127.0.0.1");

        string response = await proxy.SendRawAsync($"GET http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 502 ", response, StringComparison.Ordinal);
    }

    // "X-Field-N" names, distinct per index.
    private static string FieldName(int i) => "X-Field-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static (byte[] Data, byte[] Hash) Pattern(int[] bursts, char first)
    {
        var data = new byte[bursts.Sum()];
        new Random(first).NextBytes(data);
        data[0] = (byte)first;
        return (data, SHA256.HashData(data));
    }

    private static async Task SendBurstsAsync(Socket socket, byte[] data, int[] bursts)
    {
        int offset = 0;
        foreach (int n in bursts)
        {
            int end = offset + n;
            while (offset < end)
            {
                offset += await socket.SendAsync(data.AsMemory(offset, end - offset), SocketFlags.None);
            }

            await Task.Delay(20);
        }

        socket.Shutdown(SocketShutdown.Send);
    }

    private static async Task<(byte[] Hash, long Length, bool Reset)> ReceiveToEndAsync(Socket socket, bool slow = false)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[slow ? 4096 : 65536];
        long total = 0;
        int reads = 0;
        try
        {
            int n;
            while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                total += n;
                if (slow && ++reads % 64 == 0)
                {
                    await Task.Delay(1, cts.Token);
                }
            }
        }
        catch (SocketException)
        {
            return (hash.GetHashAndReset(), total, true);
        }

        return (hash.GetHashAndReset(), total, false);
    }

    private static async Task ReceiveExactlyAsync(Socket socket, byte[] buffer)
    {
        using var cts = new CancellationTokenSource(Bound);
        int have = 0;
        while (have < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(have), SocketFlags.None, cts.Token);
            Assert.NotEqual(0, n);
            have += n;
        }
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        using var cts = new CancellationTokenSource(Bound);
        return await HttpWire.ReadHeadAsync(stream, cts.Token);
    }

    // A CONNECT tunnel through the proxy to the listener: the client's socket (its 200 read and checked) and the
    // destination's accepted one. The caller owns and disposes both.
    private static async Task<(Socket Client, Socket Upstream)> OpenTunnelAsync(TestProxy proxy, TcpListener listener, int clientReceiveBuffer = 0)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (clientReceiveBuffer > 0)
        {
            client.ReceiveBufferSize = clientReceiveBuffer;
        }

        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        await client.SendAsync(Encoding.ASCII.GetBytes($"CONNECT 127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port} HTTP/1.1\r\n\r\n"), SocketFlags.None);
        var upstream = await listener.AcceptSocketAsync().WaitAsync(Bound);
        var established = new byte[39];
        await ReceiveExactlyAsync(client, established);
        Assert.Equal("HTTP/1.1 200 Connection Established\r\n\r\n", Encoding.ASCII.GetString(established));
        return (client, upstream);
    }

    private static async Task WaitForNoConnectionsAsync(TestProxy proxy)
    {
        for (int i = 0; i < 200 && proxy.Server.ActiveConnections > 0; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(0, proxy.Server.ActiveConnections);
    }

    /// <summary>
    /// An origin on 127.0.0.1 that answers the n-th request head it receives (over any of its connections) with
    /// the n-th scripted response in one write, and records each request head. Bounded: 30 s, 16 connections.
    /// </summary>
    private sealed class SequenceOrigin : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _cts = new(TimeSpan.FromSeconds(30));
        private readonly byte[][] _responses;
        private readonly bool _closeAfterEach;
        private readonly ConcurrentQueue<string> _requests = new();
        private int _next = -1;
        private int _connections;

        public SequenceOrigin(byte[][] responses, bool closeAfterEach = false)
        {
            _responses = responses;
            _closeAfterEach = closeAfterEach;
            _listener.Start();
            _ = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public int Connections => Volatile.Read(ref _connections);

        public IReadOnlyCollection<string> Requests => _requests.ToArray();

        public void Dispose()
        {
            _cts.Cancel();
            _listener.Stop();
            _cts.Dispose();
        }

        private async Task AcceptAsync()
        {
            try
            {
                for (int i = 0; i < 16; i++)
                {
                    var client = await _listener.AcceptSocketAsync(_cts.Token);
                    Interlocked.Increment(ref _connections);
                    _ = ServeAsync(client);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }

        private async Task ServeAsync(Socket socket)
        {
            using var owned = socket;
            var pending = new List<byte>();
            var buffer = new byte[65536];
            try
            {
                while (true)
                {
                    int end;
                    while ((end = HttpWire.IndexOfHeadEnd(pending)) < 0)
                    {
                        int n = await socket.ReceiveAsync(buffer, SocketFlags.None, _cts.Token);
                        if (n == 0)
                        {
                            return;
                        }

                        pending.AddRange(buffer.AsSpan(0, n));
                    }

                    _requests.Enqueue(Encoding.Latin1.GetString(pending.GetRange(0, end + 4).ToArray()));
                    pending.RemoveRange(0, end + 4);
                    int index = Interlocked.Increment(ref _next);
                    if (index >= _responses.Length)
                    {
                        return;
                    }

                    await socket.SendAsync(_responses[index], SocketFlags.None, _cts.Token);
                    if (_closeAfterEach)
                    {
                        socket.Shutdown(SocketShutdown.Send);
                        return;
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Bounded or cut.
            }
        }
    }
}

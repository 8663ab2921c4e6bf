using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Egress.Proxy.Forwarding;
using Egress.Proxy.Tests.Support;

namespace Egress.Proxy.Tests;

/// <summary>
/// The relay's copy paths (splice on Linux, budgeted buffers everywhere) on real loopback TCP sockets:
/// large transfers with checksums both ways at once, slow and stalled readers (partial writes), half-close
/// in each direction, resets, and the proxy's idle timeout cutting a stalled tunnel.
/// </summary>
public sealed class TunnelCopyTests
{
    public static TheoryData<bool> Paths => [true, false];

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task LargeTransfersBothWaysAtOnce_ArriveWholeAndInOrder(bool splice)
    {
        await using var pair = await RelayPair.StartAsync(splice);
        const int size = 24 * 1024 * 1024;
        long splicedBefore = BytePump.SplicedTotal;

        var forward = SendAndCloseAsync(pair.Client, size, seed: 1);
        var backward = SendAndCloseAsync(pair.Upstream, size, seed: 2);
        var receivedAtUpstream = ReceiveAllAsync(pair.Upstream, chunk: 7919, delayEvery: 0);
        var receivedAtClient = ReceiveAllAsync(pair.Client, chunk: 65536, delayEvery: 0);
        var sentHashes = await Task.WhenAll(forward, backward);
        var receivedHashes = await Task.WhenAll(receivedAtUpstream, receivedAtClient);
        var result = await pair.Relay.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(Convert.ToHexString(sentHashes[0]), Convert.ToHexString(receivedHashes[0].Hash));
        Assert.Equal(Convert.ToHexString(sentHashes[1]), Convert.ToHexString(receivedHashes[1].Hash));
        Assert.Equal(size, result.Forward);
        Assert.Equal(size, result.Backward);
        Assert.True(result.Clean);
        if (splice && OperatingSystem.IsLinux())
        {
            Assert.True(BytePump.SplicedTotal - splicedBefore >= 2L * size, "the splice path was not used");
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task StalledReader_ThenReadsEverything_GetsEveryByte(bool splice)
    {
        await using var pair = await RelayPair.StartAsync(splice);
        const int size = 16 * 1024 * 1024;

        // The client does not read for a while, so the relay's writes to it stall (partial writes, a full
        // socket buffer, the pipe or buffer held) and then resume in small reads with pauses.
        var sent = SendAndCloseAsync(pair.Upstream, size, seed: 3);
        await Task.Delay(500);
        var received = await ReceiveAllAsync(pair.Client, chunk: 1500, delayEvery: 4096);
        var hash = await sent;

        Assert.Equal(size, received.Length);
        Assert.Equal(Convert.ToHexString(hash), Convert.ToHexString(received.Hash));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task ClientHalfClose_IsPassedOn_AndTheOtherDirectionKeepsWorking(bool splice)
    {
        await using var pair = await RelayPair.StartAsync(splice);

        await pair.Client.SendAsync("request"u8.ToArray(), SocketFlags.None);
        pair.Client.Shutdown(SocketShutdown.Send);
        var atUpstream = await ReceiveAllAsync(pair.Upstream, chunk: 1024, delayEvery: 0);
        await pair.Upstream.SendAsync("response after the client's FIN"u8.ToArray(), SocketFlags.None);
        pair.Upstream.Shutdown(SocketShutdown.Send);
        var atClient = await ReceiveAllAsync(pair.Client, chunk: 1024, delayEvery: 0);
        var result = await pair.Relay.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("request", Encoding.ASCII.GetString(atUpstream.Bytes));
        Assert.Equal("response after the client's FIN", Encoding.ASCII.GetString(atClient.Bytes));
        Assert.True(result.Clean);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task UpstreamHalfClose_IsPassedOn_AndTheOtherDirectionKeepsWorking(bool splice)
    {
        await using var pair = await RelayPair.StartAsync(splice);

        await pair.Upstream.SendAsync("banner"u8.ToArray(), SocketFlags.None);
        pair.Upstream.Shutdown(SocketShutdown.Send);
        var atClient = await ReceiveAllAsync(pair.Client, chunk: 1024, delayEvery: 0);
        await pair.Client.SendAsync("late upload"u8.ToArray(), SocketFlags.None);
        pair.Client.Shutdown(SocketShutdown.Send);
        var atUpstream = await ReceiveAllAsync(pair.Upstream, chunk: 1024, delayEvery: 0);
        var result = await pair.Relay.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("banner", Encoding.ASCII.GetString(atClient.Bytes));
        Assert.Equal("late upload", Encoding.ASCII.GetString(atUpstream.Bytes));
        Assert.True(result.Clean);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task UpstreamReset_EndsTheRelayAndClosesTheClient(bool splice)
    {
        await using var pair = await RelayPair.StartAsync(splice);
        var sending = SendAndCloseAsync(pair.Client, 64 * 1024 * 1024, seed: 4);

        await Task.Delay(100);
        pair.Upstream.LingerState = new LingerOption(true, 0);
        pair.Upstream.Close();
        var result = await pair.Relay.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(result.Clean);
        await Assert.ThrowsAnyAsync<Exception>(() => sending.WaitAsync(TimeSpan.FromSeconds(10)));
        var rest = await ReceiveAllAsync(pair.Client, chunk: 1024, delayEvery: 0);
        Assert.Equal(0, rest.Length);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task ClientReset_WhileUpstreamStreams_EndsTheRelay(bool splice)
    {
        await using var pair = await RelayPair.StartAsync(splice);
        var sending = SendAndCloseAsync(pair.Upstream, 256 * 1024 * 1024, seed: 5);

        await Task.Delay(200);
        pair.Client.LingerState = new LingerOption(true, 0);
        pair.Client.Close();
        var result = await pair.Relay.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(result.Clean);
        Assert.True(result.Backward < 256L * 1024 * 1024);
        await Assert.ThrowsAnyAsync<Exception>(() => sending.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task ShuttingTheRelaySocketsDown_EndsAStalledRelay(bool splice)
    {
        await using var pair = await RelayPair.StartAsync(splice);
        var sending = SendAndCloseAsync(pair.Upstream, 256 * 1024 * 1024, seed: 6);
        await Task.Delay(500);
        Assert.False(pair.Relay.IsCompleted);

        pair.InnerClient.Shutdown(SocketShutdown.Both);
        pair.InnerUpstream.Shutdown(SocketShutdown.Both);
        var result = await pair.Relay.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.False(result.Clean);
        pair.Upstream.Close();
        await Assert.ThrowsAnyAsync<Exception>(() => sending.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task StalledTunnelThroughTheProxy_IsCutByTheIdleTimeout()
    {
        using var source = new TcpListener(IPAddress.Loopback, 0);
        source.Start();
        await using var proxy = TestProxy.Start("127.0.0.1", new ProxyOptions { IdleTimeout = TimeSpan.FromMilliseconds(800) });
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT 127.0.0.1:{((IPEndPoint)source.LocalEndpoint).Port} HTTP/1.1\r\n\r\n"));
        using var upstream = await source.AcceptSocketAsync();
        var head = new byte[39];
        await stream.ReadExactlyAsync(head);
        Assert.Equal("HTTP/1.1 200 Connection Established\r\n\r\n", Encoding.ASCII.GetString(head));

        // The destination streams while the client reads nothing: the tunnel stalls, then idles out.
        var sending = SendAndCloseAsync(upstream, 512 * 1024 * 1024, seed: 7);
        var failed = await Assert.ThrowsAnyAsync<Exception>(() => sending.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.True(failed is SocketException or IOException or ObjectDisposedException, failed.ToString());
        for (int i = 0; i < 100 && proxy.Server.ActiveConnections > 0; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(0, proxy.Server.ActiveConnections);
    }

    /// <summary>Sends <paramref name="size"/> pseudo-random bytes in uneven writes, half-closes, returns their SHA-256.</summary>
    private static async Task<byte[]> SendAndCloseAsync(Socket socket, int size, int seed)
    {
        var random = new Random(seed);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var block = new byte[200 * 1024];
        int sent = 0;
        while (sent < size)
        {
            int n = Math.Min(size - sent, random.Next(1, block.Length));
            random.NextBytes(block.AsSpan(0, n));
            hash.AppendData(block, 0, n);
            int offset = 0;
            while (offset < n)
            {
                offset += await socket.SendAsync(block.AsMemory(offset, n - offset), SocketFlags.None);
            }

            sent += n;
        }

        socket.Shutdown(SocketShutdown.Send);
        return hash.GetHashAndReset();
    }

    private static async Task<Received> ReceiveAllAsync(Socket socket, int chunk, int delayEvery)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[chunk];
        var small = new MemoryStream();
        long total = 0;
        long sinceDelay = 0;
        try
        {
            int n;
            while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                if (small.Length < 4096)
                {
                    small.Write(buffer, 0, Math.Min(n, 4096));
                }

                total += n;
                sinceDelay += n;
                if (delayEvery > 0 && sinceDelay >= delayEvery * 256)
                {
                    sinceDelay = 0;
                    await Task.Delay(1, cts.Token);
                }
            }
        }
        catch (SocketException)
        {
            // A reset ends the stream too.
        }

        return new Received(total, hash.GetHashAndReset(), small.ToArray());
    }

    private sealed record Received(long Length, byte[] Hash, byte[] Bytes);

    /// <summary>client ⇄ [InnerClient | relay | InnerUpstream] ⇄ upstream, all on loopback TCP.</summary>
    private sealed class RelayPair : IAsyncDisposable
    {
        private RelayPair(Socket client, Socket innerClient, Socket innerUpstream, Socket upstream, Task<SocketRelayResult> relay)
        {
            Client = client;
            InnerClient = innerClient;
            InnerUpstream = innerUpstream;
            Upstream = upstream;
            Relay = relay;
        }

        public Socket Client { get; }

        public Socket InnerClient { get; }

        public Socket InnerUpstream { get; }

        public Socket Upstream { get; }

        public Task<SocketRelayResult> Relay { get; }

        public static async Task<RelayPair> StartAsync(bool splice)
        {
            var (client, innerClient) = await ConnectedPairAsync();
            var (innerUpstream, upstream) = await ConnectedPairAsync();
            var relay = SocketRelay.RunAsync(innerClient, innerUpstream, new SocketRelayOptions { UseSplice = splice });
            return new RelayPair(client, innerClient, innerUpstream, upstream, relay);
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            Upstream.Dispose();
            try
            {
                await Relay.WaitAsync(TimeSpan.FromSeconds(10));
            }
            finally
            {
                InnerClient.Dispose();
                InnerUpstream.Dispose();
            }
        }

        private static async Task<(Socket Connecting, Socket Accepted)> ConnectedPairAsync()
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            var connecting = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            var accept = listener.AcceptAsync();
            await connecting.ConnectAsync(listener.LocalEndPoint!);
            var accepted = await accept;
            accepted.NoDelay = true;
            return (connecting, accepted);
        }
    }
}

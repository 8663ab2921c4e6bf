using System.Net;
using System.Net.Sockets;
using System.Text;
using Egress.Policy.Destinations;
using Egress.Proxy.Tests.Support;

namespace Egress.Proxy.Tests;

/// <summary>
/// Review of the keep-alive allocation cuts (shared strings for common names, methods and statuses; header lists
/// sized from the line count; a Host equal to the target's authority not parsed again; pooled state machines for
/// the per-request async methods). Real loopback sockets, bounded waits.
/// </summary>
public sealed class ReviewSixTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Differential check of the Host shortcut against the rule it replaced: a Host is refused (400) exactly when
    /// it does not parse to the destination of the request target — the old code parsed every Host, the new one
    /// skips the parse when the text is the authority's. Variants: case, trailing dots, ports (other, default,
    /// leading zero, empty), IPv6 and IPv4-mapped literals, percent-escapes, userinfo, a path, whitespace.
    /// </summary>
    [Fact]
    public async Task HostHeader_IsRefusedExactlyWhenTheOldFullParseSaidItNamesAnotherDestination()
    {
        using var origin = new MiniHttpServer();
        int p = origin.Port;
        int q = p == 65535 ? p - 1 : p + 1;
        await using var proxy = TestProxy.Start("127.0.0.1");
        string[] targets = [$"127.0.0.1:{p}", $"denied.example:{p}", "denied.example", $"[::1]:{p}"];
        string[] hosts =
        [
            "{a}", "{a} ", "{A}", "{a}.", $"127.0.0.1:{q}", "127.0.0.1", $"127.0.0.1:0{p}", "127.0.0.1:", $"127.0.0.1.:{p}",
            $"[::1]:{p}", $"[::ffff:127.0.0.1]:{p}", $"127.0.0.1%3a{p}", $"127%2e0.0.1:{p}", $"u@127.0.0.1:{p}", $"127.0.0.1:{p}/x",
            $"127.1:{p}", $"0x7f.0.0.1:{p}", $"2130706433:{p}", "denied.example", "DENIED.example", "denied.example.", "denied.example:80",
            $"denied.example:{p}", "Denied.Example:80", $"[0:0:0:0:0:0:0:1]:{p}", "[::1]", "",
        ];

        var failures = new List<string>();
        foreach (string authority in targets)
        {
            Assert.True(DestinationParser.TryParse("http://" + authority, out var destination, out _), authority);
            foreach (string template in hosts)
            {
                string host = template.Replace("{a}", authority, StringComparison.Ordinal).Replace("{A}", authority.ToUpperInvariant(), StringComparison.Ordinal);
                string trimmed = host.Trim();
                bool oldRefused = !DestinationParser.TryParse("http://" + trimmed, out var hostDestination, out _) || hostDestination != destination;
                string response = await proxy.SendRawAsync($"GET http://{authority}/r6 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
                bool refused = response.StartsWith("HTTP/1.1 400 ", StringComparison.Ordinal) && response.Contains("Host header does not match", StringComparison.Ordinal);
                if (refused != oldRefused)
                {
                    failures.Add($"target {authority}, Host '{host}': old rule {(oldRefused ? "400" : "passes")}, now {response.Split("\r\n")[0]}");
                }

                // What reaches the origin names the decided authority, never the client's text.
                if (!refused && authority.StartsWith("127.0.0.1:", StringComparison.Ordinal) && !response.Contains($"host=127.0.0.1:{p} ", StringComparison.Ordinal))
                {
                    failures.Add($"target {authority}, Host '{host}': forwarded as {response}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>
    /// The shared strings are handed out only for exactly those bytes: over the wire, the method, the field
    /// names and the reason phrase arrive in the case they were sent in (both directions), on a kept-alive
    /// connection where the second request's names differ from the first's only in case.
    /// </summary>
    [Fact]
    public async Task MethodNamesAndReason_ReachTheOtherSideInTheCaseTheyWereSent_OnAKeptAliveConnection()
    {
        using var origin = new RecordingOrigin(
            "HTTP/1.1 200 OK\r\ncontent-length: 1\r\nDATE: x\r\nServer: s\r\n\r\na",
            "HTTP/1.1 404 not found\r\nContent-Length: 1\r\ndate: y\r\nSERVER: t\r\nConnection: close\r\n\r\nb");
        await using var proxy = TestProxy.Start("127.0.0.1");
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        var stream = client.GetStream();
        using var cts = new CancellationTokenSource(Bound);

        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET http://127.0.0.1:{origin.Port}/1 HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\nUser-Agent: u\r\naccept: */*\r\nContent-Type: t\r\n\r\n"), cts.Token);
        string first = await HttpWire.ReadResponseAsync(stream, 1, cts.Token);
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"get http://127.0.0.1:{origin.Port}/2 HTTP/1.1\r\nhost: 127.0.0.1:{origin.Port}\r\nuser-agent: u\r\nACCEPT: */*\r\ncontent-type: t\r\nContent-Length: 0\r\n\r\n"), cts.Token);
        string second = await HttpWire.ReadResponseAsync(stream, 1, cts.Token);

        Assert.StartsWith("HTTP/1.1 200 OK\r\n", first, StringComparison.Ordinal);
        Assert.Contains("\r\ncontent-length: 1\r\nDATE: x\r\nServer: s\r\n", first, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 404 not found\r\n", second, StringComparison.Ordinal);
        Assert.Contains("\r\ndate: y\r\nSERVER: t\r\n", second, StringComparison.Ordinal);
        var heads = await origin.Heads.WaitAsync(Bound);
        Assert.Equal($"GET /1 HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\nUser-Agent: u\r\naccept: */*\r\nContent-Type: t\r\n\r\n", heads[0]);
        Assert.Equal($"get /2 HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\nuser-agent: u\r\nACCEPT: */*\r\ncontent-type: t\r\nContent-Length: 0\r\n\r\n", heads[1]);
    }

    /// <summary>
    /// The header list is sized from the head's line count, clamped to the limit: at the edges (no fields allowed,
    /// one allowed) a head with exactly the limit passes, one more is refused (431 from a client, 502 from a
    /// destination), and the proxy goes on serving.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task MaxHeaderCount_AtTheEdges_ExactlyTheLimitPasses_OneMoreIsRefused(int max)
    {
        using var origin = new MiniHttpServer();
        await using var proxy = TestProxy.Start("127.0.0.1", new ProxyOptions { MaxHeaderCount = max });
        string target = $"http://127.0.0.1:{origin.Port}/m";
        string Fields(int n) => string.Concat(Enumerable.Range(0, n).Select(i => i == 0 ? $"Host: 127.0.0.1:{origin.Port}\r\n" : $"X-{i}: v\r\n"));

        string tooMany = await proxy.SendRawAsync($"GET {target} HTTP/1.0\r\n{Fields(max + 1)}\r\n");
        string atLimit = await proxy.SendRawAsync($"GET {target} HTTP/1.0\r\n{Fields(max)}\r\n");

        Assert.StartsWith("HTTP/1.1 431 ", tooMany, StringComparison.Ordinal);
        // MiniHttpServer answers with two fields (Content-Type, Content-Length): a limit below that is the destination's fault.
        Assert.StartsWith(max >= 2 ? "HTTP/1.1 200 " : "HTTP/1.1 502 ", atLimit, StringComparison.Ordinal);
    }

    /// <summary>
    /// Pooled state machine boxes are reused once awaited: a box still referenced after that would hand one
    /// connection's state to another. Many kept-alive connections at once, interleaved with connections that end
    /// in a parse error (an exception through the pooled methods), a client that leaves mid-request (cancellation)
    /// and a destination refused: every answer must be the one its own request asked for.
    /// </summary>
    [Fact]
    public async Task ManyKeptAliveConnectionsAtOnce_WithFailuresInterleaved_EachGetsItsOwnAnswers()
    {
        using var origin = new MiniHttpServer();
        await using var proxy = TestProxy.Start("127.0.0.1");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        const int Clients = 8;
        const int Requests = 25;

        async Task KeptAlive(int c)
        {
            using var client = new TcpClient { NoDelay = true };
            await client.ConnectAsync(IPAddress.Loopback, proxy.Port, cts.Token);
            var stream = client.GetStream();
            for (int r = 0; r < Requests; r++)
            {
                string path = $"/c{c}-r{r}";
                string body = r % 3 == 0 ? $"b{c}.{r}" : "";
                string length = body.Length > 0 ? $"Content-Length: {body.Length}\r\n" : "";
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"{(body.Length > 0 ? "POST" : "GET")} http://127.0.0.1:{origin.Port}{path} HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\n{length}\r\n{body}"), cts.Token);
                string head = await HttpWire.ReadHeadAsync(stream, cts.Token);
                int contentLength = int.Parse(head.Split("\r\n").Single(l => l.StartsWith("Content-Length: ", StringComparison.Ordinal))[16..], System.Globalization.CultureInfo.InvariantCulture);
                var got = new byte[contentLength];
                await stream.ReadExactlyAsync(got, cts.Token);
                string text = Encoding.Latin1.GetString(got);
                Assert.Equal($"{(body.Length > 0 ? "POST" : "GET")} {path} host=127.0.0.1:{origin.Port} proxy-connection=False body={body}", text);
            }
        }

        async Task Failing(int f)
        {
            for (int i = 0; i < 10; i++)
            {
                switch ((f + i) % 3)
                {
                    case 0:
                        Assert.StartsWith("HTTP/1.1 400 ", await proxy.SendRawAsync($"GET http://127.0.0.1:{origin.Port}/ HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n"), StringComparison.Ordinal);
                        break;
                    case 1:
                        Assert.StartsWith("HTTP/1.1 403 ", await proxy.SendRawAsync("GET http://denied.example/ HTTP/1.1\r\nHost: denied.example\r\n\r\n"), StringComparison.Ordinal);
                        break;
                    default:
                        using (var client = new TcpClient())
                        {
                            await client.ConnectAsync(IPAddress.Loopback, proxy.Port, cts.Token);
                            await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"POST http://127.0.0.1:{origin.Port}/gone HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\nContent-Length: 100\r\n\r\nhalf"), cts.Token);
                            client.Client.LingerState = new LingerOption(true, 0);
                        }

                        break;
                }
            }
        }

        await Task.WhenAll([.. Enumerable.Range(0, Clients).Select(c => Task.Run(() => KeptAlive(c))), .. Enumerable.Range(0, 4).Select(f => Task.Run(() => Failing(f)))]).WaitAsync(cts.Token);
    }

    /// <summary>
    /// An origin on 127.0.0.1 for one kept-alive connection: answers the n-th request head with the n-th scripted
    /// response and records each head exactly as received (bounded: 20 s, the script's length). Stops on dispose.
    /// </summary>
    private sealed class RecordingOrigin : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _cts = new(TimeSpan.FromSeconds(20));
        private readonly TaskCompletionSource<List<string>> _heads = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly string[] _responses;

        public RecordingOrigin(params string[] responses)
        {
            _responses = responses;
            _listener.Start();
            _ = ServeAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        /// <summary>The request heads received, once every scripted response was sent.</summary>
        public Task<List<string>> Heads => _heads.Task;

        public void Dispose()
        {
            _cts.Cancel();
            _listener.Stop();
            _cts.Dispose();
        }

        private async Task ServeAsync()
        {
            var heads = new List<string>();
            try
            {
                using var client = await _listener.AcceptTcpClientAsync(_cts.Token);
                var stream = client.GetStream();
                foreach (string response in _responses)
                {
                    string head = await HttpWire.ReadHeadAsync(stream, _cts.Token);
                    heads.Add(head);
                    await stream.WriteAsync(Encoding.Latin1.GetBytes(response), _cts.Token);
                }

                _heads.TrySetResult(heads);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException or Xunit.Sdk.XunitException)
            {
                _heads.TrySetException(new InvalidOperationException("the origin saw only: " + string.Join(" | ", heads), ex));
            }
        }
    }
}

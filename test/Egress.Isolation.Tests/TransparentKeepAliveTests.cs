using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Policy.Events;
using Egress.Proxy;
using Egress.Proxy.Transparent;
using Egress.TestUtils;

namespace Egress.Isolation.Tests;

/// <summary>
/// The transparent forwarder with real loopback sockets: every request of a kept-alive plain-HTTP connection is
/// decided (a later request for a denied Host is refused with 403 at a message boundary, recorded, and never
/// reaches the destination), and the proxy's idle timeout cuts quiet tunnels and kept-alive connections.
/// </summary>
public sealed class TransparentKeepAliveTests : IDisposable
{
    private readonly KeepAliveTarget _target = new();
    private readonly List<EgressEvent> _events = [];

    public void Dispose() => _target.Dispose();

    [Fact]
    public async Task SecondRequestForADeniedHost_403Recorded_NeverReachesTheDestination()
    {
        await using var session = await StartAsync($"127.0.0.1:{_target.Port}");

        string first = await session.ExchangeAsync($"GET /a HTTP/1.1\r\nHost: 127.0.0.1:{_target.Port}\r\n\r\n");
        string second = await session.ExchangeAsync("GET /b HTTP/1.1\r\nHost: denied.example\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200", first, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 403", second, StringComparison.Ordinal);
        Assert.Contains("X-Egress-Policy-Reason", second, StringComparison.Ordinal);
        Assert.Equal(0, await session.ReadToEndAsync()); // closed after the refusal
        Assert.Equal([$"127.0.0.1:{_target.Port}"], _target.Hosts);
        Assert.Equal(["ALLOW 127.0.0.1", "DENY denied.example"], Events());
        Assert.All(_events, e => Assert.Equal("transparent", e.Source));
    }

    [Fact]
    public async Task PipelinedRequests_TheDeniedOneIsRefusedAfterTheAllowedOneIsAnswered()
    {
        await using var session = await StartAsync($"127.0.0.1:{_target.Port}");

        await session.SendAsync($"GET /a HTTP/1.1\r\nHost: 127.0.0.1:{_target.Port}\r\n\r\nGET /b HTTP/1.1\r\nHost: evil.example\r\n\r\nGET /c HTTP/1.1\r\nHost: 127.0.0.1:{_target.Port}\r\n\r\n");
        string first = await session.ReadResponseAsync();
        string second = await session.ReadResponseAsync();

        Assert.StartsWith("HTTP/1.1 200", first, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 403", second, StringComparison.Ordinal);
        Assert.Equal(0, await session.ReadToEndAsync());
        Assert.Single(_target.Hosts);
        Assert.Equal(["ALLOW 127.0.0.1", "DENY evil.example"], Events());
    }

    [Fact]
    public async Task LaterRequestsForTheSameOrAnotherAllowedHost_ForwardedAndEachRecorded()
    {
        await using var session = await StartAsync($"127.0.0.1:{_target.Port},other.example:{_target.Port}");

        string a = await session.ExchangeAsync($"GET / HTTP/1.1\r\nHost: 127.0.0.1:{_target.Port}\r\n\r\n");
        string b = await session.ExchangeAsync($"GET / HTTP/1.1\r\nHost: 127.0.0.1:{_target.Port}\r\n\r\n");
        string c = await session.ExchangeAsync("GET / HTTP/1.1\r\nHost: other.example\r\n\r\n");

        Assert.All((string[])[a, b, c], r => Assert.StartsWith("HTTP/1.1 200", r, StringComparison.Ordinal));
        Assert.EndsWith("host=other.example", c, StringComparison.Ordinal); // sent on verbatim
        Assert.Equal(1, _target.Connections);
        Assert.Equal(["ALLOW 127.0.0.1", "ALLOW 127.0.0.1", "ALLOW 127.0.0.1"], Events()); // the dialled destination, as for a Host that differs from a CONNECT
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\nHost: evil.example\n\n")]
    public async Task LaterRequestThatDoesNotFrameStrictly_RefusedNotPassedOn(string request)
    {
        await using var session = await StartAsync($"127.0.0.1:{_target.Port}");

        await session.ExchangeAsync($"GET / HTTP/1.1\r\nHost: 127.0.0.1:{_target.Port}\r\n\r\n");
        await session.SendAsync(request);
        string refused = await session.ReadAllAsync();

        Assert.Matches("^HTTP/1.1 (400|403)", refused);
        Assert.Single(_target.Hosts);
        Assert.Equal("DENY", _events[^1].Action);
    }

    [Theory]
    [InlineData("GET http://evil.example/ HTTP/1.1\r\nHost: 127.0.0.1:{0}\r\n\r\n", "evil.example")]
    [InlineData("GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: 127.0.0.1:{0}\r\n\r\n", "127.0.0.1")]
    [InlineData("CONNECT evil.example:443 HTTP/1.1\r\nHost: 127.0.0.1:{0}\r\n\r\n", "evil.example")]
    public async Task FirstRequestWhoseTargetNamesAnotherAuthority_Refused(string request, string deniedHost)
    {
        await using var session = await StartAsync($"127.0.0.1:{_target.Port}");

        string refused = await session.ExchangeAsync(string.Format(CultureInfo.InvariantCulture, request, _target.Port));

        Assert.StartsWith("HTTP/1.1 403", refused, StringComparison.Ordinal);
        Assert.Empty(_target.Hosts);
        Assert.Equal($"DENY {deniedHost}", Events()[^1]);
    }

    [Fact]
    public async Task AbsoluteFormTargetForTheConnectionsOwnAuthority_Forwarded()
    {
        await using var session = await StartAsync($"127.0.0.1:{_target.Port}");

        string answer = await session.ExchangeAsync($"GET http://127.0.0.1:{_target.Port}/x HTTP/1.1\r\nHost: 127.0.0.1:{_target.Port}\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
        Assert.Equal(["ALLOW 127.0.0.1"], Events());
    }

    [Fact]
    public async Task IdleKeptAliveConnection_CutAfterTheProxysIdleTimeout()
    {
        await using var session = await StartAsync($"127.0.0.1:{_target.Port}", TimeSpan.FromMilliseconds(500));

        string first = await session.ExchangeAsync($"GET / HTTP/1.1\r\nHost: 127.0.0.1:{_target.Port}\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 200", first, StringComparison.Ordinal);
        Assert.Equal(0, await session.ReadToEndAsync()); // the forwarder ends it; bounded by the read timeout
        Assert.Equal(1, session.Forwarder.IdleClosed);
    }

    [Fact]
    public async Task IdleOpaqueTunnel_CutAfterTheProxysIdleTimeout()
    {
        await using var session = await StartAsync($"127.0.0.1:{_target.Port}", TimeSpan.FromMilliseconds(500));

        await session.SendAsync("BULK 100\n"); // not HTTP: an opaque tunnel, decided by address

        Assert.Equal(0, await session.ReadToEndAsync());
        Assert.Equal(1, session.Forwarder.IdleClosed);
        Assert.Equal(["ALLOW 127.0.0.1"], Events());
    }

    [Fact]
    public async Task SlowDestinationConnect_IsNotIdleTime()
    {
        // Connecting the destination takes about a second — longer than the idle timeout, which must not run meanwhile.
        using var slow = await SlowConnectListener.StartAsync();
        await using var session = await StartAsync("127.0.0.1", TimeSpan.FromMilliseconds(300), slow.EndPoint);

        await session.SendAsync("HELLO\n"); // not HTTP: an opaque tunnel, decided by address
        bool dropped = await slow.WaitForDroppedSynAsync();
        await Task.Delay(700); // the idle timeout twice over
        await slow.MakeRoomAsync();
        using var upstream = await slow.AcceptAsync(TimeSpan.FromSeconds(10));
        var received = new byte[6];
        int n = await upstream.ReceiveAsync(received, SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(dropped, "the kernel never dropped the forwarder's SYN: the connect was not slow and the test proved nothing");
        Assert.Equal("HELLO\n", Encoding.ASCII.GetString(received, 0, n));
        Assert.Equal(0, session.Forwarder.IdleClosed);
    }

    private string[] Events()
    {
        lock (_events)
        {
            return [.. _events.Select(e => $"{e.Action} {e.Host}")];
        }
    }

    private async Task<Session> StartAsync(string allowlist, TimeSpan? idle = null, IPEndPoint? destination = null)
    {
        var policy = EgressPolicy.Create(new EgressOptions { Allowlist = [.. allowlist.Split(',')], Enforce = true, LogLevel = 0 }, TextWriter.Null);
        policy.Events.Recorded += e =>
        {
            lock (_events)
            {
                _events.Add(e);
            }
        };
        var forwarder = new TransparentForwarder(policy, new ProxyOptions { IdleTimeout = idle ?? TimeSpan.FromMinutes(5) });
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        var accepted = await listener.AcceptAsync();
        var serving = forwarder.HandleAsync(accepted, destination ?? _target.EndPoint); // as if redirected from a connection to the target
        return new Session(policy, forwarder, client, serving);
    }

    private sealed class Session(EgressPolicy policy, TransparentForwarder forwarder, Socket client, Task serving) : IAsyncDisposable
    {
        private readonly StringBuilder _pending = new();

        public TransparentForwarder Forwarder => forwarder;

        public async Task SendAsync(string text) => await client.SendAsync(Encoding.ASCII.GetBytes(text));

        public async Task<string> ExchangeAsync(string request)
        {
            await SendAsync(request);
            return await ReadResponseAsync();
        }

        /// <summary>Reads one response (head and Content-Length body), bounded by 30 s.</summary>
        public async Task<string> ReadResponseAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var buffer = new byte[8192];
            while (true)
            {
                string text = _pending.ToString();
                int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end >= 0)
                {
                    var match = System.Text.RegularExpressions.Regex.Match(text[..end], "(?im)^content-length: *([0-9]+)");
                    int length = end + 4 + (match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0);
                    if (text.Length >= length)
                    {
                        _pending.Remove(0, length);
                        return text[..length];
                    }
                }

                int n = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (n == 0)
                {
                    string rest = _pending.ToString();
                    _pending.Clear();
                    return rest;
                }

                _pending.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }
        }

        /// <summary>Reads until the forwarder closes; returns the bytes that came after what was read already.</summary>
        public async Task<int> ReadToEndAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var buffer = new byte[8192];
            int total = _pending.Length;
            _pending.Clear();
            int n;
            while ((n = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                total += n;
            }

            return total;
        }

        /// <summary>Everything until the forwarder closes.</summary>
        public async Task<string> ReadAllAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var buffer = new byte[8192];
            int n;
            while ((n = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                _pending.Append(Encoding.ASCII.GetString(buffer, 0, n));
            }

            return _pending.ToString();
        }

        public async ValueTask DisposeAsync()
        {
            client.Dispose();
            await serving.WaitAsync(TimeSpan.FromSeconds(30));
            await forwarder.DisposeAsync();
            policy.Dispose();
        }
    }
}

using System.Net.Sockets;
using Egress.Policy;
using Egress.Policy.Destinations;
using Egress.Proxy.Forwarding;
using Egress.Proxy.Http;

namespace Egress.Proxy;

/// <summary>
/// One client connection: reads request heads under the limits, answers health checks, decides and serves
/// CONNECT tunnels and absolute-form plain-HTTP requests (keeping both sides alive where HTTP allows).
/// </summary>
internal sealed partial class ProxyConnection : IDisposable
{
    private const int TimedOutHeader = 1;
    private const int TimedOutIdle = 2;

    private readonly Socket _client;
    private readonly SocketReader _clientReader;
    private readonly ProxyOptions _options;
    private readonly UpstreamConnector _connector;
    private readonly TimeProvider _time;
    private readonly Func<bool> _stopping;
    private readonly CancellationTokenSource _cts;
    private readonly Action _touch;
    private long _stateSince;
    private long _lastActivity;
    private int _timedOut;
    private volatile ConnectionState _state;
    private Socket? _upstream;
    private SocketReader? _upstreamReader;
    private string? _upstreamKey;
    private EgressDecision _upstreamDecision;

    public ProxyConnection(Socket client, ProxyOptions options, UpstreamConnector connector, TimeProvider time, Func<bool> stopping)
    {
        _client = client;
        _options = options;
        _connector = connector;
        _time = time;
        _stopping = stopping;
        _cts = new CancellationTokenSource();
        _touch = Touch;
        _clientReader = new SocketReader(client, Math.Max(options.MaxHeaderBytes + 1, 16 * 1024), _touch);
        _stateSince = _lastActivity = time.GetTimestamp();
        _state = ConnectionState.ReadingHead;
    }

    /// <summary>Completes when the connection has ended.</summary>
    public Task Completion { get; set; } = Task.CompletedTask;

    /// <summary>Whether the connection is idle between requests (closed at once on shutdown).</summary>
    public bool IsIdle => _state == ConnectionState.AwaitingRequest;

    /// <summary>Serves the connection until it ends.</summary>
    public async Task RunAsync()
    {
        var ct = _cts.Token;
        try
        {
            bool first = true;
            while (first || !_stopping())
            {
                SetState(first ? ConnectionState.ReadingHead : ConnectionState.AwaitingRequest);
                if (!await _clientReader.WaitForDataAsync(ct).ConfigureAwait(false))
                {
                    return;
                }

                SetState(ConnectionState.ReadingHead);
                int length = await HeadReader.ReadAsync(_clientReader, _options.MaxHeaderBytes, _options.MaxRequestLineBytes, 400, ct).ConfigureAwait(false);
                if (length == 0)
                {
                    return;
                }

                var head = HeadParser.ParseRequest(_clientReader.Data[..length], _options.MaxHeaderCount);
                _clientReader.Consume(length);
                SetState(ConnectionState.Busy);
                first = false;
                if (!await HandleAsync(head, ct).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (HeadParseException ex)
        {
            ProxyMetrics.Reject(ex.Status switch { 431 => "header_too_large", 414 => "request_line_too_long", 502 => "bad_upstream_response", _ => "bad_request" });
            await RejectAsync(ProxyResponses.Error(ex.Status, ex.Message)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (Volatile.Read(ref _timedOut) == TimedOutHeader)
        {
            ProxyMetrics.Reject("header_timeout");
            await RejectAsync(ProxyResponses.Error(408, "request head not received in time")).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
        {
            // Client or destination went away, the connection idled out, or the proxy is shutting down.
        }
        finally
        {
            CloseUpstream();
            Close(_client);
        }
    }

    /// <summary>Applies the header and idle timeouts; called periodically by the server.</summary>
    public void CheckTimeouts(long now)
    {
        if (_state == ConnectionState.ReadingHead)
        {
            if (_time.GetElapsedTime(Volatile.Read(ref _stateSince), now) > _options.HeaderTimeout)
            {
                TimeOut(TimedOutHeader);
            }
        }
        else if (_time.GetElapsedTime(Volatile.Read(ref _lastActivity), now) > _options.IdleTimeout)
        {
            TimeOut(TimedOutIdle);
        }
    }

    /// <summary>Cuts the connection: cancels pending reads and shuts both sockets down (tunnels use no tokens).</summary>
    public void Abort()
    {
        Cancel();
        ShutdownQuietly(_client);
        if (_upstream is { } upstream)
        {
            ShutdownQuietly(upstream);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _clientReader.Dispose();
        _upstreamReader?.Dispose();
        _cts.Dispose();
    }

    private void TimeOut(int kind)
    {
        if (Interlocked.CompareExchange(ref _timedOut, kind, 0) == 0)
        {
            // A slow head only needs its read cancelled (to answer 408); anything else is cut.
            if (kind == TimedOutHeader)
            {
                Cancel();
            }
            else
            {
                ProxyMetrics.Reject("idle_timeout");
                Abort();
            }
        }
    }

    private void Cancel()
    {
        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already finished.
        }
    }

    private static void ShutdownQuietly(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
    }

    private void Touch() => Volatile.Write(ref _lastActivity, _time.GetTimestamp());

    private void SetState(ConnectionState state)
    {
        long now = _time.GetTimestamp();
        Volatile.Write(ref _stateSince, now);
        Volatile.Write(ref _lastActivity, now);
        _state = state;
    }

    private async ValueTask<bool> HandleAsync(HttpHead head, CancellationToken ct)
    {
        if (head.Count("Host") > 1)
        {
            throw new HeadParseException(400, "more than one Host header");
        }

        string target = head.Second;
        if (head.First == "CONNECT")
        {
            await ConnectAsync(head, ct).ConfigureAwait(false);
            return false;
        }

        if (target.StartsWith('/'))
        {
            return await ServeLocalAsync(head, ct).ConfigureAwait(false);
        }

        if (target.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            return await ForwardAsync(head, ct).ConfigureAwait(false);
        }

        if (target.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            throw new HeadParseException(400, "https:// requests must use CONNECT");
        }

        throw new HeadParseException(400, "request target must be absolute-form http:// or CONNECT host:port");
    }

    private async ValueTask<bool> ServeLocalAsync(HttpHead head, CancellationToken ct)
    {
        if (head.First is not ("GET" or "HEAD") || head.Get("Content-Length") is not (null or "0") || head.Get("Transfer-Encoding") is not null)
        {
            throw new HeadParseException(400, "this is a forward proxy: use an absolute-form http:// target or CONNECT");
        }

        string path = head.Second;
        int query = path.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
        {
            path = path[..query];
        }

        bool keepAlive = head.MinorVersion == 1 && !head.ListContains("Connection", "close") && !_stopping();
        byte[] response;
        if (path == ProxyDefaults.HealthPath)
        {
            var (status, body) = DescriptorLimits.Health();
            response = ProxyResponses.Build(status, "text/plain; charset=utf-8", body, !keepAlive);
        }
        else if (_options.LocalEndpoint?.Invoke(path) is { } local)
        {
            response = ProxyResponses.Build(200, local.ContentType, local.Body, !keepAlive);
        }
        else
        {
            throw new HeadParseException(400, "this is a forward proxy: use an absolute-form http:// target or CONNECT");
        }

        if (head.First == "HEAD")
        {
            int bodyStart = response.AsSpan().IndexOf("\r\n\r\n"u8) + 4;
            response = response[..bodyStart];
        }

        await _client.SendAsync(response, SocketFlags.None, ct).ConfigureAwait(false);
        return keepAlive;
    }

    private async ValueTask ConnectAsync(HttpHead head, CancellationToken ct)
    {
        string target = head.Second;
        if (!AuthorityForm.IsHostPort(target))
        {
            throw new HeadParseException(400, "CONNECT target must be host:port");
        }

        if (!DestinationParser.TryParse(target, out var destination, out _) || destination.Port == 0)
        {
            await RejectAsync(_connector.Invalid(target, "connect").Response!).ConfigureAwait(false);
            return;
        }

        var result = await _connector.ConnectAsync(destination, "connect", ct).ConfigureAwait(false);
        if (result.Socket is not { } upstream)
        {
            await RejectAsync(result.Response!).ConfigureAwait(false);
            return;
        }

        _upstream = upstream;
        await _client.SendAsync(ProxyResponses.Established, SocketFlags.None, CancellationToken.None).ConfigureAwait(false);
        if (_clientReader.Count > 0)
        {
            // Bytes the client sent right after the head (e.g. a TLS ClientHello) belong to the tunnel.
            int n = _clientReader.Count;
            await upstream.SendAsync(_clientReader.DataMemory, SocketFlags.None, CancellationToken.None).ConfigureAwait(false);
            _clientReader.Consume(n);
            ProxyMetrics.AddTransmitted(n);
        }

        _clientReader.Release();
        await Tunnel.RunAsync(_client, upstream, _touch).ConfigureAwait(false);
    }

    private async ValueTask RejectAsync(byte[] response)
    {
        await ProxyResponses.TrySendAsync(_client, response, CancellationToken.None).ConfigureAwait(false);
        try
        {
            // Half-close, then drain briefly so unread request bytes do not turn the close into a reset
            // that would destroy the response before the client reads it.
            _client.Shutdown(SocketShutdown.Send);
            using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            var sink = new byte[4096];
            for (int total = 0; total < 256 * 1024;)
            {
                int n = await _client.ReceiveAsync(sink, SocketFlags.None, drain.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Best effort.
        }
    }

    private void CloseUpstream()
    {
        if (_upstream is not null)
        {
            Close(_upstream);
            _upstream = null;
        }

        _upstreamReader?.Dispose();
        _upstreamReader = null;
        _upstreamKey = null;
    }

    private static void Close(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }

        socket.Dispose();
    }
}

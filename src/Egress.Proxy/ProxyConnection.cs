using System.Net.Sockets;
using System.Runtime.CompilerServices;
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
    private UpstreamKey? _upstreamKey;
    private EgressDecision _upstreamDecision;
    private Roles.ClientIdentity? _identity;
    private readonly Func<Roles.RoleTable?>? _roles;

    public ProxyConnection(Socket client, ProxyOptions options, UpstreamConnector connector, TimeProvider time, Func<bool> stopping, Roles.ClientIdentity? identity = null, Func<Roles.RoleTable?>? roles = null)
    {
        _client = client;
        _identity = identity;
        _roles = roles;
        _options = options;
        _connector = connector;
        _time = time;
        _stopping = stopping;
        _cts = new CancellationTokenSource();
        _touch = MarkActive;
        _clientReader = new SocketReader(client, Math.Max(options.MaxHeaderBytes + 1, 16 * 1024), _touch);
        _stateSince = _lastActivity = time.GetTimestamp();
        _state = ConnectionState.ReadingHead;
    }

    /// <summary>The client's socket.</summary>
    internal Socket Client => _client;

    /// <summary>Bytes received from the client and not yet consumed.</summary>
    internal SocketReader ClientReader => _clientReader;

    /// <summary>Marks activity (for the idle timeout).</summary>
    internal Action Touch => _touch;

    /// <summary>The destination socket, cut together with the client's on <see cref="Abort"/> and closed at the end.</summary>
    internal Socket? Upstream
    {
        get => _upstream;
        set => _upstream = value;
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
                // A new connection's head is read at once (its wait is bounded by the header timeout, so the 4 KiB
                // buffer it holds meanwhile is too); between kept-alive requests the wait holds no buffer.
                if (!await _clientReader.WaitForDataAsync(ct, holdBuffer: first).ConfigureAwait(false))
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
            QuietSocket.Close(_client, RelayedToEnd);
        }
    }

    /// <summary>Set when a tunnel ran to an orderly end both ways: its sockets need no shutdown before they close.</summary>
    internal bool RelayedToEnd { get; set; }

    /// <summary>Cuts the connection: cancels pending reads and shuts both sockets down (tunnels use no tokens).</summary>
    public void Abort()
    {
        Cancel();
        QuietSocket.Shutdown(_client);
        if (_upstream is { } upstream)
        {
            QuietSocket.Shutdown(upstream);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _clientReader.Dispose();
        _upstreamReader?.Dispose();
        _cts.Dispose();
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

    /// <summary>
    /// Decides and connects <paramref name="destination"/> with the idle clock stopped (the connect timeout
    /// applies instead), then restarts the clock: the wait for a slow upstream is not client idleness.
    /// </summary>
    internal async Task<UpstreamResult> ConnectUpstreamAsync(UpstreamConnector connector, Destination destination, string kind, CancellationToken ct)
    {
        SetState(ConnectionState.Connecting);
        try
        {
            return await connector.ConnectAsync(destination, kind, ct).ConfigureAwait(false);
        }
        finally
        {
            SetState(ConnectionState.Busy);
        }
    }

    private void MarkActive() => Volatile.Write(ref _lastActivity, _time.GetTimestamp());

    private void SetState(ConnectionState state)
    {
        long now = _time.GetTimestamp();
        Volatile.Write(ref _stateSince, now);
        Volatile.Write(ref _lastActivity, now);
        _state = state;
    }

    // Pooled: this and the methods it awaits per kept-alive request would otherwise allocate a state machine box each time they wait.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> HandleAsync(HttpHead head, CancellationToken ct)
    {
        if (head.Count("Host") > 1)
        {
            throw new HeadParseException(400, "more than one Host header");
        }

        string target = head.Second;
        bool connect = head.First == "CONNECT";
        if (!connect && target.StartsWith('/'))
        {
            return await ServeLocalAsync(head, ct).ConfigureAwait(false);
        }

        // Roles (Roles/): the request is decided by its client's role, or refused with 407 when its credentials are wrong.
        var connector = _connector;
        if (_roles?.Invoke() is { } roles)
        {
            var assignment = head.Count("Proxy-Authorization") > 1
                ? new Roles.RoleAssignment(null, default, "more than one Proxy-Authorization header")
                : roles.Resolve(_identity ??= Roles.ClientIdentity.FromSocket(_client), head.Get("Proxy-Authorization"), _connector.Context.Source);
            if (assignment.Failure is { } failure)
            {
                ProxyMetrics.Reject("proxy_authentication");
                await RejectAsync(ProxyResponses.AuthenticationRequired(failure)).ConfigureAwait(false);
                return false;
            }

            connector = _connector.For(assignment.Policy!, assignment.Context);
        }

        if (connect)
        {
            await ConnectTunnel.RunAsync(this, connector, head, _options.HeaderTimeout, _time, ct).ConfigureAwait(false);
            return false;
        }

        if (target.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            return await ForwardAsync(head, connector, ct).ConfigureAwait(false);
        }

        if (target.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            throw new HeadParseException(400, "https:// requests must use CONNECT");
        }

        throw new HeadParseException(400, "request target must be absolute-form http:// or CONNECT host:port");
    }

    /// <summary>Sends <paramref name="response"/>, then half-closes and drains briefly so the client reads it.</summary>
    internal async ValueTask RejectAsync(byte[] response)
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
            QuietSocket.Close(_upstream, RelayedToEnd);
            _upstream = null;
        }

        _upstreamReader?.Dispose();
        _upstreamReader = null;
        _upstreamKey = null;
    }
}

using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Egress.Policy;
using Egress.Proxy.Forwarding;
using Egress.Proxy.Http;

namespace Egress.Proxy;

/// <summary>
/// An HTTP/1.1 forward proxy that enforces an <see cref="EgressPolicy"/>: CONNECT tunnels and absolute-form
/// plain-HTTP requests are decided through the core (host, then every resolved address) and recorded with
/// source <c>proxy</c>; denials get 403 with <c>X-Egress-Policy-Reason</c> and a JSON body. Built on
/// sockets only, so it publishes as Native AOT.
/// </summary>
public sealed class EgressProxyServer : IAsyncDisposable
{
    private static readonly TimeSpan MinAcceptBackoff = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan MaxAcceptBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RefusalLinger = TimeSpan.FromMilliseconds(500);
    private const int MaxLingeringRefusals = 16;
    private static int s_lingering;

    private readonly ProxyOptions _options;
    private readonly TimeProvider _time;
    private readonly UpstreamConnector _connector;
    private readonly Gateway.PolicyHolder _policies;
    private readonly ConcurrentDictionary<long, ProxyConnection> _connections = new();
    private readonly Socket _listener;
    // Handed to every connection: made once here, not as two new closures per accepted connection.
    private readonly Func<bool> _isStopping;
    private readonly Func<Roles.RoleTable?> _currentRoles;
    private ITimer? _sweep;
    private Task? _acceptLoop;
    private readonly int _maxConnections;
    private long _nextId;
    private int _active;
    private int _handshakes;
    private volatile bool _stopping;

    /// <summary>Creates a server; call <see cref="Start"/> to listen.</summary>
    /// <param name="policy">The policy that decides every request.</param>
    /// <param name="options">Listen address and limits.</param>
    /// <param name="time">Clock for timeouts.</param>
    public EgressProxyServer(EgressPolicy policy, ProxyOptions? options = null, TimeProvider? time = null)
        : this(new Gateway.PolicyHolder(policy ?? throw new ArgumentNullException(nameof(policy)), "-"), options, time)
    {
    }

    /// <summary>Creates a server enforcing whatever <paramref name="policies"/> holds now (a reloading gateway swaps it).</summary>
    /// <param name="policies">The policy holder; each request is decided under the policy current when it arrives.</param>
    /// <param name="options">Listen address and limits.</param>
    /// <param name="time">Clock for timeouts.</param>
    /// <exception cref="ArgumentException">A limit in <paramref name="options"/> is out of range (named).</exception>
    public EgressProxyServer(Gateway.PolicyHolder policies, ProxyOptions? options = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(policies);
        _options = options ?? new ProxyOptions();
        _options.Validate();
        _time = time ?? TimeProvider.System;
        _policies = policies;
        _connector = new UpstreamConnector(() => policies.Policy, _options, UpstreamConnector.Source, () => policies.Current.Generation);
        _maxConnections = DescriptorLimits.EffectiveMaxConnections(_options.MaxConnections);
        _listener = new Socket(_options.Listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _isStopping = () => _stopping;
        _currentRoles = () => _policies.Current.Roles;
    }

    /// <summary>The policy enforced now.</summary>
    public EgressPolicy Policy => _policies.Policy;

    /// <summary>The bound address (with the real port when 0 was asked for); null before <see cref="Start"/>.</summary>
    public IPEndPoint? LocalEndPoint => _listener.IsBound ? (IPEndPoint?)_listener.LocalEndPoint : null;

    /// <summary>
    /// The connection cap in force: <see cref="ProxyOptions.MaxConnections"/>, lowered to what the process's
    /// descriptor limit (<c>RLIMIT_NOFILE</c>) can hold (two descriptors a connection, plus a reserve), so load
    /// is refused with 503 instead of running the process out of descriptors.
    /// </summary>
    public int MaxConnections => _maxConnections;

    /// <summary>Client connections currently open.</summary>
    public int ActiveConnections => Volatile.Read(ref _active);

    /// <summary>Completes when the server has stopped.</summary>
    public Task Completion => _acceptLoop ?? Task.CompletedTask;

    /// <summary>Binds and starts accepting connections.</summary>
    /// <exception cref="SocketException">The address cannot be bound.</exception>
    public void Start()
    {
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(_options.Listen);
        _listener.Listen(4096);
        var smallest = _options.HeaderTimeout < _options.IdleTimeout ? _options.HeaderTimeout : _options.IdleTimeout;
        var period = TimeSpan.FromMilliseconds(Math.Clamp(smallest.TotalMilliseconds / 4, 50, 1000));
        _sweep = _time.CreateTimer(_ => Sweep(), null, period, period);
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>
    /// Stops accepting, closes idle connections, lets running exchanges and tunnels finish for up to
    /// <see cref="ProxyOptions.ShutdownGrace"/>, then cuts the rest. Never throws for connections that
    /// will not end: they are abandoned after a further 5 seconds.
    /// </summary>
    public async Task StopAsync()
    {
        if (_stopping)
        {
            await Completion.ConfigureAwait(false);
            return;
        }

        _stopping = true;
        _listener.Close();
        foreach (var connection in _connections.Values)
        {
            if (connection.IsIdle)
            {
                connection.Abort();
            }
        }

        var all = Task.WhenAll(_connections.Values.Select(c => c.Completion));
        try
        {
            await all.WaitAsync(_options.ShutdownGrace, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            foreach (var connection in _connections.Values)
            {
                connection.Abort();
            }

            try
            {
                await all.WaitAsync(TimeSpan.FromSeconds(5), _time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Connections that did not end even after being cut are abandoned; stopping still completes.
            }
        }

        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        _sweep?.Dispose();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Connections that did not end even after being cut are abandoned.
        }

        _listener.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        var backoff = MinAcceptBackoff;
        while (!_stopping)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync().ConfigureAwait(false);
                backoff = MinAcceptBackoff;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                if (_stopping)
                {
                    return;
                }

                // Out of descriptors (EMFILE/ENFILE) or another transient failure: the pending clients wait in the
                // listen backlog while the proxy backs off (doubling up to a second), reports itself degraded on
                // /healthz and keeps running; it never spins and never dies of load.
                if (ex is SocketException { SocketErrorCode: SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable })
                {
                    DescriptorLimits.ReportExhausted();
                }

                await Task.Delay(backoff, _time).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxAcceptBackoff.Ticks));
                continue;
            }

            if (_options.Tls is { } tls)
            {
                ServeTls(client, tls);
            }
            else
            {
                Serve(client);
            }
        }
    }

    // The TLS listener (Gateway/TlsTerminator): handshakes in progress are capped like connections, so a flood of
    // slow handshakes cannot hold every descriptor; each ends within the header timeout.
    private void ServeTls(Socket client, Gateway.GatewayTls tls)
    {
        if (Interlocked.Increment(ref _handshakes) > _maxConnections)
        {
            Interlocked.Decrement(ref _handshakes);
            ProxyMetrics.Reject("max_connections");
            client.Dispose();
            return;
        }

        client.NoDelay = true;
        _ = RunTlsAsync(client, tls);
    }

    private async Task RunTlsAsync(Socket client, Gateway.GatewayTls tls)
    {
        bool handedOver = false;
        try
        {
            await Gateway.TlsTerminator.RunAsync(client, tls, _options.HeaderTimeout, _options.IdleTimeout, (inner, identity) =>
            {
                handedOver = true;
                Interlocked.Decrement(ref _handshakes);
                Serve(inner, identity);
            }).ConfigureAwait(false);
        }
        finally
        {
            if (!handedOver)
            {
                Interlocked.Decrement(ref _handshakes);
            }
        }
    }

    /// <summary>
    /// Serves a client connection accepted elsewhere (e.g. from the relay listener of an isolated
    /// <c>run</c>, created inside its network namespace) exactly like one accepted here. Takes ownership.
    /// </summary>
    public void Serve(Socket client) => Serve(client, null);

    /// <summary>Serves a client connection whose identity is known already (a TLS client, Gateway/TlsTerminator).</summary>
    internal void Serve(Socket client, Roles.ClientIdentity? identity)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (_stopping)
        {
            client.Dispose();
            return;
        }

        if (client.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
        {
            client.NoDelay = true;
        }

        if (Interlocked.Increment(ref _active) > _maxConnections)
        {
            Interlocked.Decrement(ref _active);
            ProxyMetrics.Reject("max_connections");
            _ = RefuseAsync(client, _maxConnections);
            return;
        }

        long id = Interlocked.Increment(ref _nextId);
        var connection = new ProxyConnection(client, _options, _connector, _time, _isStopping, identity, _currentRoles);
        _connections[id] = connection;
        connection.Completion = RunAsync(id, connection);
    }

    private async Task RunAsync(long id, ProxyConnection connection)
    {
        ProxyMetrics.ActiveConnections.Add(1);
        try
        {
            await connection.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            ProxyMetrics.ActiveConnections.Add(-1);
            Interlocked.Decrement(ref _active);
            _connections.TryRemove(id, out _);
            connection.Dispose();
        }
    }

    private static async Task RefuseAsync(Socket client, int cap)
    {
        using (client)
        {
            await ProxyResponses.TrySendAsync(client, ProxyResponses.Error(503, DescriptorLimits.CapMessage(cap)), CancellationToken.None).ConfigureAwait(false);
            try
            {
                // Half-close and read the request briefly, so that closing with it unread does not reset the
                // connection and destroy the 503 before the client reads it. Only a few refusals linger at once:
                // past that they close at once, so a flood cannot spend the descriptors the cap protects.
                client.Shutdown(SocketShutdown.Send);
                if (Interlocked.Increment(ref s_lingering) <= MaxLingeringRefusals)
                {
                    using var drain = new CancellationTokenSource(RefusalLinger);
                    var sink = new byte[1024];
                    for (int total = 0; total < 16 * 1024;)
                    {
                        int n = await client.ReceiveAsync(sink, SocketFlags.None, drain.Token).ConfigureAwait(false);
                        if (n == 0)
                        {
                            break;
                        }

                        total += n;
                    }
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // Already gone, or lingered long enough.
            }
            finally
            {
                Interlocked.Decrement(ref s_lingering);
            }
        }
    }

    private void Sweep()
    {
        long now = _time.GetTimestamp();
        foreach (var connection in _connections.Values)
        {
            connection.CheckTimeouts(now);
        }
    }
}

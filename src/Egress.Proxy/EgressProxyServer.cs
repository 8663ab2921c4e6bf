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
    private readonly ProxyOptions _options;
    private readonly TimeProvider _time;
    private readonly UpstreamConnector _connector;
    private readonly Gateway.PolicyHolder _policies;
    private readonly ConcurrentDictionary<long, ProxyConnection> _connections = new();
    private readonly Socket _listener;
    private ITimer? _sweep;
    private Task? _acceptLoop;
    private long _nextId;
    private int _active;
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
    public EgressProxyServer(Gateway.PolicyHolder policies, ProxyOptions? options = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(policies);
        _options = options ?? new ProxyOptions();
        _time = time ?? TimeProvider.System;
        _policies = policies;
        _connector = new UpstreamConnector(() => policies.Policy, _options, UpstreamConnector.Source, generation: () => policies.Current.Generation);
        _listener = new Socket(_options.Listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
    }

    /// <summary>The policy enforced now.</summary>
    public EgressPolicy Policy => _policies.Policy;

    /// <summary>The bound address (with the real port when 0 was asked for); null before <see cref="Start"/>.</summary>
    public IPEndPoint? LocalEndPoint => _listener.IsBound ? (IPEndPoint?)_listener.LocalEndPoint : null;

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
        while (!_stopping)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                if (_stopping)
                {
                    return;
                }

                // Transient accept failure (e.g. out of file descriptors): back off briefly.
                await Task.Delay(TimeSpan.FromMilliseconds(10), _time).ConfigureAwait(false);
                continue;
            }

            Serve(client);
        }
    }

    /// <summary>
    /// Serves a client connection accepted elsewhere (e.g. from the relay listener of an isolated
    /// <c>run</c>, created inside its network namespace) exactly like one accepted here. Takes ownership.
    /// </summary>
    public void Serve(Socket client)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (_stopping)
        {
            client.Dispose();
            return;
        }

        client.NoDelay = true;
        if (Interlocked.Increment(ref _active) > _options.MaxConnections)
        {
            Interlocked.Decrement(ref _active);
            ProxyMetrics.Reject("max_connections");
            _ = RefuseAsync(client);
            return;
        }

        long id = Interlocked.Increment(ref _nextId);
        var connection = new ProxyConnection(client, _options, _connector, _time, () => _stopping);
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

    private static async Task RefuseAsync(Socket client)
    {
        using (client)
        {
            await ProxyResponses.TrySendAsync(client, ProxyResponses.Error(503, "too many connections"), CancellationToken.None).ConfigureAwait(false);
            try
            {
                client.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
                // Already gone.
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

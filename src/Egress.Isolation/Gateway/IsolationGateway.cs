using System.Net.Sockets;
using Egress.Isolation.Agent;
using Egress.Isolation.Native;
using Egress.Proxy;
using Egress.Proxy.Transparent;

namespace Egress.Isolation.Gateway;

/// <summary>
/// Serves an isolated command's listeners here, outside its namespace: connections to the relay
/// (HTTP_PROXY) go to the policy proxy as if accepted by it; every other TCP connection, redirected by
/// nftables, goes to the transparent forwarder with its original destination. Each accepted socket lives
/// in the command's namespace, but reading and writing it here needs no second hop.
/// </summary>
public sealed class IsolationGateway : IAsyncDisposable
{
    private readonly EgressProxyServer _proxy;
    private readonly TransparentForwarder _transparent;
    private readonly List<Socket> _listeners = [];
    private readonly List<Task> _loops = [];
    private readonly HashSet<Task> _connections = [];
    private readonly Lock _gate = new();
    private volatile bool _stopping;

    /// <summary>Creates the gateway for <paramref name="listeners"/> (from <see cref="IsolatedProcess.Listeners"/>).</summary>
    public IsolationGateway(EgressProxyServer proxy, TransparentForwarder transparent, IReadOnlyDictionary<string, Socket> listeners)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        ArgumentNullException.ThrowIfNull(transparent);
        ArgumentNullException.ThrowIfNull(listeners);
        _proxy = proxy;
        _transparent = transparent;
        foreach (var (name, socket) in listeners)
        {
            switch (name)
            {
                case AgentListener.Relay:
                    _listeners.Add(socket);
                    _loops.Add(AcceptLoopAsync(socket, _proxy.Serve));
                    break;
                case AgentListener.Transparent or AgentListener.Transparent6:
                    _listeners.Add(socket);
                    _loops.Add(AcceptLoopAsync(socket, Transparent));
                    break;
                default:
                    // Served by another part (DNS, UDP recording); not ours to close.
                    break;
            }
        }
    }

    /// <summary>Stops accepting and cuts the transparent connections still open (the namespace is gone by then).</summary>
    public async Task StopAsync()
    {
        _stopping = true;
        foreach (var socket in _listeners)
        {
            socket.Dispose();
        }

        await Task.WhenAll(_loops).ConfigureAwait(false);
        await _transparent.DisposeAsync().ConfigureAwait(false);
        Task[] open;
        lock (_gate)
        {
            open = [.. _connections];
        }

        await Task.WhenAll(open).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
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
    }

    private void Transparent(Socket client)
    {
        var task = _transparent.HandleAsync(client, OriginalDestination.Get(client));
        lock (_gate)
        {
            _connections.Add(task);
        }

        _ = task.ContinueWith(
            t =>
            {
                lock (_gate)
                {
                    _connections.Remove(t);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private async Task AcceptLoopAsync(Socket listener, Action<Socket> serve)
    {
        while (!_stopping)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                if (_stopping)
                {
                    return;
                }

                await Task.Delay(10).ConfigureAwait(false);
                continue;
            }

            serve(client);
        }
    }
}

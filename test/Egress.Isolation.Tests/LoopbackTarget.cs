using System.Net;
using System.Net.Sockets;

namespace Egress.Isolation.Tests;

/// <summary>
/// A loopback TCP listener (outside any namespace) that counts the connections that reach it and serves each
/// with <see cref="ServeAsync"/>; the targets tests count connections on derive from it. Stops on dispose.
/// </summary>
internal abstract class LoopbackTarget : IDisposable
{
    private readonly TcpListener _listener;
    private int _connections;

    protected LoopbackTarget(IPAddress? address = null)
    {
        _listener = new TcpListener(address ?? IPAddress.Loopback, 0);
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Cancelled on dispose.</summary>
    protected CancellationTokenSource Stop { get; } = new();

    public void Dispose()
    {
        Stop.Cancel();
        _listener.Stop();
        Stop.Dispose();
    }

    /// <summary>Serves one accepted connection (and disposes it).</summary>
    protected abstract Task ServeAsync(TcpClient client);

    private async Task AcceptAsync()
    {
        while (!Stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(Stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            Interlocked.Increment(ref _connections);
            _ = ServeAsync(client);
        }
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Egress.Export.Tests.Squid;

/// <summary>
/// Tiny HTTP servers on loopback addresses (127.0.0.x and ::1), all on the same two ports, answering
/// <c>200 ok</c> to anything. They stop when disposed; every connection has a bounded lifetime.
/// </summary>
internal sealed class LoopbackHttpServers : IDisposable
{
    private readonly List<TcpListener> _listeners = [];
    private readonly CancellationTokenSource _stop = new();

    private LoopbackHttpServers(int port1, int port2)
    {
        Port1 = port1;
        Port2 = port2;
    }

    public int Port1 { get; }

    public int Port2 { get; }

    /// <summary>Starts servers on every address of <paramref name="addresses"/> at two ports free on all of them.</summary>
    public static LoopbackHttpServers Start(IReadOnlyList<IPAddress> addresses)
    {
        for (int attempt = 0; attempt < 20; attempt++)
        {
            var (p1, p2) = (FreePort(), FreePort());
            if (p1 == p2)
            {
                continue;
            }

            var servers = new LoopbackHttpServers(p1, p2);
            try
            {
                foreach (var address in addresses)
                {
                    servers.Listen(address, p1);
                    servers.Listen(address, p2);
                }

                return servers;
            }
            catch (SocketException)
            {
                servers.Dispose();
            }
        }

        throw new InvalidOperationException("no two ports free on every loopback address after 20 attempts");
    }

    /// <summary>A port free on 127.0.0.1 right now.</summary>
    public static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private void Listen(IPAddress address, int port)
    {
        Assert.True(IPAddress.IsLoopback(address), "test servers bind to loopback only");
        var listener = new TcpListener(address, port);
        listener.Start();
        _listeners.Add(listener);
        _ = AcceptLoop(listener);
    }

    private async Task AcceptLoop(TcpListener listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Serve(client);
        }
    }

    private async Task Serve(TcpClient client)
    {
        using var _ = client;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            var stream = client.GetStream();
            var buffer = new byte[8192];
            int total = 0;
            while (total < buffer.Length)
            {
                int n = await stream.ReadAsync(buffer.AsMemory(total), timeout.Token);
                if (n == 0)
                {
                    return;
                }

                total += n;
                if (Encoding.ASCII.GetString(buffer, 0, total).Contains("\r\n\r\n", StringComparison.Ordinal))
                {
                    break;
                }
            }

            await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"u8.ToArray(), timeout.Token);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        foreach (var l in _listeners)
        {
            l.Stop();
        }

        _stop.Dispose();
    }
}

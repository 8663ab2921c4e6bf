using System.Net;
using System.Net.Sockets;

namespace Egress.Isolation.Tests;

/// <summary>A UDP socket on 127.0.0.1 (outside any test namespace) that counts the datagrams it receives.</summary>
internal sealed class UdpCountingListener : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromMinutes(2));
    private int _count;

    public UdpCountingListener()
    {
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
        _ = Task.Run(async () =>
        {
            var buffer = new byte[65536];
            try
            {
                while (true)
                {
                    await _socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                    Interlocked.Increment(ref _count);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                // stopped
            }
        });
    }

    public int Port { get; }

    public int Count => Volatile.Read(ref _count);

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        _stop.Dispose();
    }
}

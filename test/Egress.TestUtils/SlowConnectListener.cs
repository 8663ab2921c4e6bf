using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Egress.TestUtils;

/// <summary>
/// A loopback listener that makes connecting to it slow, for real: its accept queue (backlog 0) is filled by
/// one connection, so Linux drops the next SYN and the connecting side retransmits it about a second later.
/// <see cref="WaitForDroppedSynAsync"/> confirms a drop happened; <see cref="MakeRoomAsync"/> lets the
/// retransmission in.
/// </summary>
public sealed class SlowConnectListener : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Socket _filler = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private long _overflowsBefore;

    private SlowConnectListener()
    {
    }

    /// <summary>The listener's address.</summary>
    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

    /// <summary>The listener's port.</summary>
    public int Port => EndPoint.Port;

    /// <summary>Binds 127.0.0.1 and fills the accept queue.</summary>
    public static async Task<SlowConnectListener> StartAsync()
    {
        var slow = new SlowConnectListener();
        slow._listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        slow._listener.Listen(0);
        await slow._filler.ConnectAsync(slow.EndPoint);
        slow._overflowsBefore = ListenOverflows();
        return slow;
    }

    /// <summary>Waits (at most 5 s) until the kernel dropped a SYN for a full accept queue; false if it never did.</summary>
    public async Task<bool> WaitForDroppedSynAsync()
    {
        for (int i = 0; i < 250; i++)
        {
            if (ListenOverflows() > _overflowsBefore)
            {
                return true;
            }

            await Task.Delay(20);
        }

        return false;
    }

    /// <summary>Accepts the filling connection, so that the next retransmitted SYN gets into the queue.</summary>
    public async Task MakeRoomAsync()
    {
        using var filler = await _listener.AcceptAsync();
    }

    /// <summary>Accepts the next connection (bounded by <paramref name="timeout"/>).</summary>
    public async Task<Socket> AcceptAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        return await _listener.AcceptAsync(cts.Token);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _filler.Dispose();
        _listener.Dispose();
    }

    /// <summary>The kernel's count of SYNs dropped because a listener's accept queue was full (TcpExt ListenOverflows).</summary>
    private static long ListenOverflows()
    {
        var lines = File.ReadAllLines("/proc/net/netstat");
        for (int i = 0; i + 1 < lines.Length; i += 2)
        {
            if (lines[i].StartsWith("TcpExt:", StringComparison.Ordinal))
            {
                int index = Array.IndexOf(lines[i].Split(' '), "ListenOverflows");
                return index < 0 ? 0 : long.Parse(lines[i + 1].Split(' ')[index], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}

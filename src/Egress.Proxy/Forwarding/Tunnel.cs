using System.Buffers;
using System.Net.Sockets;

namespace Egress.Proxy.Forwarding;

/// <summary>
/// Relays bytes both ways between two connected sockets until both directions end. Idle directions hold no
/// buffer (zero-byte reads wait for data), so idle tunnels cost little memory. A half-close is passed on.
/// </summary>
internal static class Tunnel
{
    private const int BufferSize = 64 * 1024;

    /// <summary>Relays until both sides are done or <paramref name="cancellationToken"/> fires.</summary>
    public static async Task RunAsync(Socket client, Socket upstream, Action onActivity, CancellationToken cancellationToken)
    {
        ProxyMetrics.ActiveTunnels.Add(1);
        try
        {
            var toUpstream = PumpAsync(client, upstream, onActivity, ProxyMetrics.AddTransmitted, cancellationToken);
            var toClient = PumpAsync(upstream, client, onActivity, ProxyMetrics.AddReceived, cancellationToken);
            await Task.WhenAll(toUpstream, toClient).ConfigureAwait(false);
        }
        finally
        {
            ProxyMetrics.ActiveTunnels.Add(-1);
        }
    }

    private static async Task PumpAsync(Socket from, Socket to, Action onActivity, Action<int> counted, CancellationToken cancellationToken)
    {
        byte[]? buffer = null;
        try
        {
            while (true)
            {
                if (buffer is null)
                {
                    // Wait without a buffer; rent one only when bytes have arrived.
                    await from.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                    buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
                }

                int n = await from.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    HalfClose(to);
                    return;
                }

                onActivity();
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                counted(n);
                if (n < buffer.Length)
                {
                    // A short read: the sender is likely pausing; give the buffer back while waiting.
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // One side failed or the tunnel was cut: end both directions.
            Abort(from);
            Abort(to);
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static void HalfClose(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
    }

    private static void Abort(Socket socket)
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
}

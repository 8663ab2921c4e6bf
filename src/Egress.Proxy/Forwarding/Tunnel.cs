using System.Buffers;
using System.Net.Sockets;

namespace Egress.Proxy.Forwarding;

/// <summary>
/// Relays bytes both ways between two connected sockets until both directions end. Idle directions hold no
/// buffer (zero-byte reads wait for data), so idle tunnels cost little memory; busy directions double-buffer
/// so receiving the next block overlaps sending the last. A half-close is passed on. Socket operations take
/// no cancellation token (registration costs on every call): the connection cuts a tunnel by shutting its
/// sockets down.
/// </summary>
internal static class Tunnel
{
    private const int BufferSize = 256 * 1024;

    /// <summary>Relays until both sides are done or the sockets are shut down.</summary>
    public static async Task RunAsync(Socket client, Socket upstream, Action onActivity)
    {
        ProxyMetrics.ActiveTunnels.Add(1);
        try
        {
            var toUpstream = PumpAsync(client, upstream, onActivity, ProxyMetrics.AddTransmitted);
            var toClient = PumpAsync(upstream, client, onActivity, ProxyMetrics.AddReceived);
            await Task.WhenAll(toUpstream, toClient).ConfigureAwait(false);
        }
        finally
        {
            ProxyMetrics.ActiveTunnels.Add(-1);
        }
    }

    private static async Task PumpAsync(Socket from, Socket to, Action onActivity, Action<int> counted)
    {
        byte[]? current = null;
        byte[]? spare = null;
        ValueTask<int> pendingSend = default;
        bool sending = false;
        try
        {
            while (true)
            {
                if (current is null)
                {
                    if (sending)
                    {
                        await pendingSend.ConfigureAwait(false);
                        sending = false;
                    }

                    ReturnBuffer(ref spare);

                    // Wait without a buffer; rent one only when bytes have arrived.
                    await from.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                    current = ArrayPool<byte>.Shared.Rent(BufferSize);
                }

                int n = await from.ReceiveAsync(current, SocketFlags.None).ConfigureAwait(false);
                if (sending)
                {
                    await pendingSend.ConfigureAwait(false);
                    sending = false;
                }

                if (n == 0)
                {
                    HalfClose(to);
                    return;
                }

                onActivity();
                counted(n);
#pragma warning disable CA2012 // Awaited exactly once: at the next receive, on a short read, or in finally.
                pendingSend = to.SendAsync(current.AsMemory(0, n), SocketFlags.None);
#pragma warning restore CA2012
                sending = true;
                if (n < current.Length)
                {
                    // A short read: the sender is likely pausing. Finish the send and give the buffers back while waiting.
                    await pendingSend.ConfigureAwait(false);
                    sending = false;
                    ArrayPool<byte>.Shared.Return(current);
                    current = null;
                }
                else
                {
                    // A full read: more is probably queued. Receive into the other buffer while this one is sent.
                    (current, spare) = (spare ?? ArrayPool<byte>.Shared.Rent(BufferSize), current);
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
            if (sending)
            {
                try
                {
                    await pendingSend.ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    // The send failed too; the buffers can go back regardless.
                }
            }

            ReturnBuffer(ref current);
            ReturnBuffer(ref spare);
        }
    }

    private static void ReturnBuffer(ref byte[]? buffer)
    {
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = null;
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

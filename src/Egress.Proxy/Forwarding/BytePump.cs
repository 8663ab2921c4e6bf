using System.Buffers;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Egress.Proxy.Forwarding;

/// <summary>
/// Moves bytes one way, from one connected stream socket to another, until end of stream (then passes the
/// half-close on) or an error (then cuts both sockets). Between bursts it waits with a zero-byte receive and
/// holds nothing. On Linux a burst goes socket → pipe → socket with <c>splice(2)</c>, so the bytes never enter
/// user space; when the destination is full, one small piece (≤ 4 KiB) is read out of the pipe and sent
/// asynchronously, which lets the socket engine wait for room without a thread. Elsewhere, or when no pipe is
/// free, a burst copies through a buffer from <see cref="BufferBudget"/>.
/// </summary>
internal sealed class BytePump
{
    private const int StallPiece = 4 * 1024;

    // A splice shorter than this most likely took all there was (a request or response, not a bulk stream):
    // go back to waiting instead of asking again only to get EAGAIN (one system call per burst saved).
    private const int ShortSplice = 16 * 1024;

    private readonly Socket _from;
    private readonly Socket _to;
    private readonly Action? _onActivity;
    private readonly Action<int>? _counted;
    private readonly SpliceCheck? _check;
    private bool _splice;

    /// <param name="from">The source socket.</param>
    /// <param name="to">The destination socket.</param>
    /// <param name="check">Shared by the two pumps of one relay (they splice between the same two sockets); null: no splice.</param>
    /// <param name="onActivity">Called when bytes move.</param>
    /// <param name="counted">Called with each count of bytes moved.</param>
    public BytePump(Socket from, Socket to, SpliceCheck? check, Action? onActivity, Action<int>? counted)
    {
        _from = from;
        _to = to;
        _check = check;
        _splice = check is not null && SplicePipePool.IsSupported;
        _onActivity = onActivity;
        _counted = counted;
    }

    private static long s_splicedTotal;

    /// <summary>Bytes moved by splice in this process (for tests and diagnostics).</summary>
    public static long SplicedTotal => Interlocked.Read(ref s_splicedTotal);

    /// <summary>Bytes moved so far.</summary>
    public long Bytes { get; private set; }

    /// <summary>Whether the pump ended at a clean end of stream (false: an error or a cut).</summary>
    public bool Completed { get; private set; }

    /// <summary>Runs until end of stream or an error; never throws for socket failures.</summary>
    public async Task RunAsync()
    {
        try
        {
            while (true)
            {
                // Wait without a buffer or a pipe; also completes at end of stream.
                await _from.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                bool ended = _splice && SplicePipePool.TryRent() is { } pipe
                    ? await SpliceBurstAsync(pipe).ConfigureAwait(false)
                    : await CopyBurstAsync().ConfigureAwait(false);
                if (ended)
                {
                    Completed = true;
                    HalfClose(_to);
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException or IOException)
        {
            // One side failed or the relay was cut: end both directions.
            Abort(_from);
            Abort(_to);
        }
    }

    private void Moved(int n)
    {
        Bytes += n;
        _onActivity?.Invoke();
        _counted?.Invoke(n);
    }

    /// <summary>Splices until the source has nothing more for now (false) or ended (true).</summary>
    private async ValueTask<bool> SpliceBurstAsync(SplicePipe pipe)
    {
        bool fromRef = false, toRef = false;
        try
        {
            _from.SafeHandle.DangerousAddRef(ref fromRef);
            _to.SafeHandle.DangerousAddRef(ref toRef);
            int fromFd = (int)_from.SafeHandle.DangerousGetHandle();
            int toFd = (int)_to.SafeHandle.DangerousGetHandle();
            // Checked once per relay (two fcntl calls), not per burst: the relay itself never switches them.
            if (!_check!.BothNonBlocking(fromFd, toFd))
            {
                // A blocking descriptor would block a pool thread inside splice: copy this burst. Asked again next
                // time: the other direction's first receive (which makes its socket non-blocking) may still be to come.
                return await CopyBurstAsync().ConfigureAwait(false);
            }

            while (true)
            {
                nint n = SpliceNative.Splice(fromFd, 0, pipe.WriteFd, 0, SplicePipePool.PipeSize, SpliceNative.SpliceMove | SpliceNative.SpliceNonBlock);
                if (n > 0)
                {
                    pipe.Pending = n;
                    Interlocked.Add(ref s_splicedTotal, n);
                    Moved((int)n);
                    await DrainAsync(pipe, toFd).ConfigureAwait(false);
                    if (n < ShortSplice)
                    {
                        return false;
                    }

                    continue;
                }

                if (n == 0)
                {
                    return true;
                }

                int errno = Marshal.GetLastPInvokeError();
                switch (errno)
                {
                    case SpliceNative.EAGAIN:
                        return false;
                    case SpliceNative.EINTR:
                        continue;
                    case SpliceNative.EINVAL or SpliceNative.ENOSYS:
                        // This kind of socket cannot be spliced: copy from now on.
                        _splice = false;
                        return await CopyBurstAsync().ConfigureAwait(false);
                    default:
                        throw new SocketException((int)SocketError.ConnectionReset);
                }
            }
        }
        finally
        {
            if (toRef)
            {
                _to.SafeHandle.DangerousRelease();
            }

            if (fromRef)
            {
                _from.SafeHandle.DangerousRelease();
            }

            SplicePipePool.Return(pipe);
        }
    }

    /// <summary>Empties the pipe into the destination, waiting asynchronously whenever the destination is full.</summary>
    private async ValueTask DrainAsync(SplicePipe pipe, int toFd)
    {
        while (pipe.Pending > 0)
        {
            nint m = SpliceNative.Splice(pipe.ReadFd, 0, toFd, 0, (nuint)pipe.Pending, SpliceNative.SpliceMove | SpliceNative.SpliceNonBlock);
            if (m > 0)
            {
                pipe.Pending -= m;
                continue;
            }

            int errno = m < 0 ? Marshal.GetLastPInvokeError() : SpliceNative.EAGAIN;
            if (errno == SpliceNative.EINTR)
            {
                continue;
            }

            if (errno != SpliceNative.EAGAIN)
            {
                throw new SocketException((int)SocketError.ConnectionReset);
            }

            // The destination is full. Take one small piece out of the pipe and send it asynchronously: the
            // socket engine completes the send when there is room, and no thread waits.
            byte[] piece = ArrayPool<byte>.Shared.Rent(StallPiece);
            try
            {
                nint k = SpliceNative.Read(pipe.ReadFd, ref piece[0], (nuint)Math.Min(pipe.Pending, StallPiece));
                if (k <= 0)
                {
                    throw new SocketException((int)SocketError.ConnectionReset);
                }

                pipe.Pending -= k;
                await SendAllAsync(piece.AsMemory(0, (int)k)).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(piece);
            }
        }
    }

    /// <summary>Copies through a budgeted buffer until a short read (false) or end of stream (true).</summary>
    private async ValueTask<bool> CopyBurstAsync()
    {
        byte[] buffer = BufferBudget.Rent();
        int half = buffer.Length / 2;
        int offset = 0;
        ValueTask pendingSend = default;
        bool sending = false;
        try
        {
            while (true)
            {
                var current = buffer.AsMemory(offset, half);
                int n = await _from.ReceiveAsync(current, SocketFlags.None).ConfigureAwait(false);
                if (sending)
                {
                    sending = false;
                    await pendingSend.ConfigureAwait(false);
                }

                if (n == 0)
                {
                    return true;
                }

                Moved(n);
#pragma warning disable CA2012 // Awaited exactly once: at the next receive, on a short read, or in finally.
                pendingSend = SendAllAsync(current[..n]);
#pragma warning restore CA2012
                sending = true;
                if (n < half)
                {
                    // A short read: the sender is likely pausing. Finish the send and give the buffer back while waiting.
                    sending = false;
                    await pendingSend.ConfigureAwait(false);
                    return false;
                }

                // A full read: more is probably queued. Receive into the other half while this one is sent.
                offset = half - offset;
            }
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
                    // The send failed too; the buffer can go back regardless.
                }
            }

            BufferBudget.Return(buffer);
        }
    }

    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            int sent = await _to.SendAsync(data, SocketFlags.None).ConfigureAwait(false);
            data = data[sent..];
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

/// <summary>
/// Whether the two sockets of one relay are non-blocking (splice on a blocking one would block a pool thread),
/// asked of the kernel until the answer is yes, then known for both directions: the relay never switches a
/// socket back, nor does .NET once an asynchronous operation made it non-blocking (unless its raw Handle is taken
/// and Blocking set again, which a caller must not do to a socket it handed to a relay).
/// </summary>
internal sealed class SpliceCheck
{
    private volatile bool _known;

    /// <summary>Whether both descriptors are non-blocking.</summary>
    public bool BothNonBlocking(int first, int second)
    {
        if (!_known && SpliceNative.IsNonBlocking(first) && SpliceNative.IsNonBlocking(second))
        {
            _known = true;
        }

        return _known;
    }
}

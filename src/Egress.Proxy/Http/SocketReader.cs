using System.Buffers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Egress.Proxy.Http;

/// <summary>
/// A receive buffer over a socket. The buffer is rented only while bytes are pending or a head is being
/// read, so thousands of idle connections hold no buffers (zero-byte reads wait for data). It starts small
/// (most heads fit in 4 KiB) and doubles up to the capacity when a head needs more room or reads keep
/// filling it (a body streaming through), so a typical request costs a 4 KiB rental, not the worst case.
/// </summary>
internal sealed class SocketReader(Socket socket, int capacity, Action? onActivity = null) : IDisposable
{
    private const int InitialSize = 4 * 1024;
    private const int StreamingSize = 64 * 1024;

    private readonly int _capacity = Math.Max(capacity, 1);
    private byte[]? _buffer;
    private int _start;
    private int _end;

    /// <summary>The socket read from.</summary>
    public Socket Socket { get; } = socket;

    /// <summary>Bytes received and not yet consumed.</summary>
    public ReadOnlySpan<byte> Data => _buffer is null ? [] : _buffer.AsSpan(_start, _end - _start);

    /// <summary>Bytes received and not yet consumed.</summary>
    public ReadOnlyMemory<byte> DataMemory => _buffer is null ? ReadOnlyMemory<byte>.Empty : _buffer.AsMemory(_start, _end - _start);

    /// <summary>Number of pending bytes.</summary>
    public int Count => _end - _start;

    /// <summary>Whether the buffer holds <c>capacity</c> pending bytes and can take no more.</summary>
    public bool IsFull => _buffer is not null && _start == 0 && _end == _buffer.Length && _buffer.Length >= _capacity;

    /// <summary>
    /// Waits until bytes are available; false at end of stream. Without <paramref name="holdBuffer"/> the wait
    /// holds no buffer (a zero-byte receive, then a read: two system calls more than a plain read when the bytes
    /// are already there, one more when they are not); with it, a plain read into the 4 KiB first buffer.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<bool> WaitForDataAsync(CancellationToken cancellationToken, bool holdBuffer = false)
    {
        if (Count > 0)
        {
            return true;
        }

        if (holdBuffer)
        {
            return await ReadMoreAsync(cancellationToken).ConfigureAwait(false) > 0;
        }

        Release();
        await Socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        return await ReadMoreAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    /// <summary>Receives more bytes after the pending ones; returns the count, 0 at end of stream.</summary>
    /// <exception cref="InvalidOperationException">The buffer is full.</exception>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReadMoreAsync(CancellationToken cancellationToken)
    {
        _buffer ??= ArrayPool<byte>.Shared.Rent(Math.Min(InitialSize, _capacity));
        if (_end == _buffer.Length)
        {
            MakeRoom();
        }

        int free = _buffer.Length - _end;
        int n = await Socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        _end += n;
        if (n > 0)
        {
            onActivity?.Invoke();
            if (n == free && _buffer.Length < Math.Min(StreamingSize, _capacity) && _start == 0)
            {
                // The read filled all the room there was: more is queued, so read bigger pieces from now on.
                Grow(Math.Min(StreamingSize, _capacity));
            }
        }

        return n;
    }

    /// <summary>Marks <paramref name="count"/> pending bytes as consumed.</summary>
    public void Consume(int count)
    {
        _start += count;
        if (_start == _end)
        {
            _start = _end = 0;
        }
    }

    /// <summary>Returns the buffer to the pool when nothing is pending.</summary>
    public void Release()
    {
        if (_buffer is not null && Count == 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
            _start = _end = 0;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }

    private void MakeRoom()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer!, _start, _buffer!, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        else if (_buffer!.Length < _capacity)
        {
            Grow(Math.Min(_buffer.Length * 2, _capacity));
        }
        else
        {
            throw new InvalidOperationException("receive buffer is full");
        }
    }

    private void Grow(int size)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(size);
        Buffer.BlockCopy(_buffer!, _start, bigger, 0, _end - _start);
        _end -= _start;
        _start = 0;
        ArrayPool<byte>.Shared.Return(_buffer!);
        _buffer = bigger;
    }
}

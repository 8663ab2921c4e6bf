using System.Buffers;
using System.Net.Sockets;

namespace Egress.Proxy.Http;

/// <summary>
/// A receive buffer over a socket. The buffer is rented only while bytes are pending or a head is being
/// read, so thousands of idle connections hold no buffers (zero-byte reads wait for data).
/// </summary>
internal sealed class SocketReader(Socket socket, int capacity, Action? onActivity = null) : IDisposable
{
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

    /// <summary>Waits until bytes are available without holding a buffer; false at end of stream.</summary>
    public async ValueTask<bool> WaitForDataAsync(CancellationToken cancellationToken)
    {
        if (Count > 0)
        {
            return true;
        }

        Release();
        await Socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        return await ReadMoreAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    /// <summary>Receives more bytes after the pending ones; returns the count, 0 at end of stream.</summary>
    /// <exception cref="InvalidOperationException">The buffer is full.</exception>
    public async ValueTask<int> ReadMoreAsync(CancellationToken cancellationToken)
    {
        _buffer ??= ArrayPool<byte>.Shared.Rent(capacity);
        if (_start > 0 && _end == _buffer.Length)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            throw new InvalidOperationException("receive buffer is full");
        }

        int n = await Socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        _end += n;
        if (n > 0)
        {
            onActivity?.Invoke();
        }

        return n;
    }

    /// <summary>Whether the buffer has no room left for more bytes.</summary>
    public bool IsFull => _buffer is not null && _start == 0 && _end == _buffer.Length;

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
}

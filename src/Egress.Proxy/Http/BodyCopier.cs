using System.Net.Sockets;

namespace Egress.Proxy.Http;

/// <summary>Copies message bodies between sockets, reading framing (length, chunked, until close) exactly.</summary>
internal static class BodyCopier
{
    private const int MaxChunkLine = 4096;

    /// <summary>Copies exactly <paramref name="length"/> bytes; false if the source ended early.</summary>
    public static async ValueTask<bool> CopyExactAsync(SocketReader source, Socket destination, long length, Action<int> counted, CancellationToken cancellationToken)
    {
        while (length > 0)
        {
            if (source.Count == 0 && await source.ReadMoreAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                return false;
            }

            int n = (int)Math.Min(length, source.Count);
            await destination.SendAsync(source.DataMemory[..n], SocketFlags.None, cancellationToken).ConfigureAwait(false);
            source.Consume(n);
            counted(n);
            length -= n;
        }

        return true;
    }

    /// <summary>Copies until the source closes.</summary>
    public static async ValueTask CopyToEndAsync(SocketReader source, Socket destination, Action<int> counted, CancellationToken cancellationToken)
    {
        while (source.Count > 0 || await source.ReadMoreAsync(cancellationToken).ConfigureAwait(false) > 0)
        {
            int n = source.Count;
            await destination.SendAsync(source.DataMemory, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            source.Consume(n);
            counted(n);
        }
    }

    /// <summary>
    /// Copies a chunked body verbatim while parsing its framing (sizes, CRLFs, trailers) so the end is known.
    /// Returns false if the source ended early; throws <see cref="HeadParseException"/> on malformed framing.
    /// </summary>
    public static async ValueTask<bool> CopyChunkedAsync(SocketReader source, Socket destination, int errorStatus, Action<int> counted, CancellationToken cancellationToken)
    {
        while (true)
        {
            int lineLength = await ReadLineAsync(source, errorStatus, cancellationToken).ConfigureAwait(false);
            if (lineLength < 0)
            {
                return false;
            }

            long size = ParseChunkSize(source.Data[..(lineLength - 2)], errorStatus);
            await ForwardAsync(source, destination, lineLength, counted, cancellationToken).ConfigureAwait(false);
            if (size == 0)
            {
                // Trailer section: lines until an empty one.
                while (true)
                {
                    lineLength = await ReadLineAsync(source, errorStatus, cancellationToken).ConfigureAwait(false);
                    if (lineLength < 0)
                    {
                        return false;
                    }

                    await ForwardAsync(source, destination, lineLength, counted, cancellationToken).ConfigureAwait(false);
                    if (lineLength == 2)
                    {
                        return true;
                    }
                }
            }

            if (!await CopyExactAsync(source, destination, size, counted, cancellationToken).ConfigureAwait(false))
            {
                return false;
            }

            while (source.Count < 2)
            {
                if (await source.ReadMoreAsync(cancellationToken).ConfigureAwait(false) == 0)
                {
                    return false;
                }
            }

            if (!source.Data[..2].SequenceEqual("\r\n"u8))
            {
                throw new HeadParseException(errorStatus, "chunk data not followed by CRLF");
            }

            await ForwardAsync(source, destination, 2, counted, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sends what <paramref name="reader"/> holds to <paramref name="destination"/> and releases its buffer (before a connection becomes a tunnel).</summary>
    public static async ValueTask FlushPendingAsync(SocketReader reader, Socket destination, CancellationToken cancellationToken)
    {
        if (reader.Count > 0)
        {
            int n = reader.Count;
            await destination.SendAsync(reader.DataMemory, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            reader.Consume(n);
        }

        reader.Release();
    }

    private static async ValueTask ForwardAsync(SocketReader source, Socket destination, int count, Action<int> counted, CancellationToken cancellationToken)
    {
        await destination.SendAsync(source.DataMemory[..count], SocketFlags.None, cancellationToken).ConfigureAwait(false);
        source.Consume(count);
        counted(count);
    }

    /// <summary>Ensures one CRLF-terminated line is buffered; returns its length with CRLF, or -1 at end of stream.</summary>
    private static async ValueTask<int> ReadLineAsync(SocketReader source, int errorStatus, CancellationToken cancellationToken)
    {
        while (true)
        {
            int idx = source.Data.IndexOf("\r\n"u8);
            if (idx >= 0)
            {
                if (source.Data[..idx].IndexOfAny((byte)'\r', (byte)'\n') >= 0)
                {
                    throw new HeadParseException(errorStatus, "bare CR or LF in chunked framing");
                }

                return idx + 2;
            }

            if (source.Count > MaxChunkLine || source.IsFull)
            {
                throw new HeadParseException(errorStatus, "chunk size line too long");
            }

            if (await source.ReadMoreAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                return -1;
            }
        }
    }

    private static long ParseChunkSize(ReadOnlySpan<byte> line, int errorStatus)
    {
        int semi = line.IndexOf((byte)';');
        var digits = (semi >= 0 ? line[..semi] : line).TrimEnd(" \t"u8);
        if (digits.IsEmpty || digits.Length > 15)
        {
            throw new HeadParseException(errorStatus, "malformed chunk size");
        }

        long size = 0;
        foreach (byte b in digits)
        {
            int v = HexValue(b);
            if (v < 0)
            {
                throw new HeadParseException(errorStatus, "malformed chunk size");
            }

            size = (size << 4) | (uint)v;
        }

        return size;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}

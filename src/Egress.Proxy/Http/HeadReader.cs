using System.Runtime.CompilerServices;

namespace Egress.Proxy.Http;

/// <summary>Reads one message head into a <see cref="SocketReader"/>, enforcing the size limits.</summary>
internal static class HeadReader
{
    /// <summary>
    /// Receives until CRLF CRLF; returns the head length (terminator included), or 0 when the stream ended
    /// before any byte. Throws <see cref="HeadParseException"/> (414/431, or 400 for a truncated head).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<int> ReadAsync(SocketReader reader, int maxHeadBytes, int maxLineBytes, int errorStatus, CancellationToken cancellationToken)
    {
        int scanned = 0;
        int checkedTo = 0;
        while (true)
        {
            var data = reader.Data;
            int from = Math.Max(0, scanned - 3);
            int idx = data[from..].IndexOf("\r\n\r\n"u8);
            if (idx >= 0)
            {
                int length = from + idx + 4;
                var head = data[..length];
                int firstLine = head.IndexOf("\r\n"u8);
                if (firstLine > maxLineBytes)
                {
                    throw LineTooLong(errorStatus);
                }

                if (length > maxHeadBytes)
                {
                    throw TooLarge(errorStatus);
                }

                HeadParser.CheckLineEndings(head, errorStatus);
                return length;
            }

            // No terminator yet, so every byte so far belongs to the head: refuse one that can never be valid now.
            checkedTo = HeadParser.CheckLineEndings(data, checkedTo, errorStatus);
            scanned = data.Length;
            if (data.Length > maxLineBytes && data[..(maxLineBytes + 1)].IndexOf("\r\n"u8) < 0)
            {
                throw LineTooLong(errorStatus);
            }

            if (data.Length >= maxHeadBytes || reader.IsFull)
            {
                throw TooLarge(errorStatus);
            }

            if (await reader.ReadMoreAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                if (reader.Count == 0)
                {
                    return 0;
                }

                throw new HeadParseException(errorStatus, "connection closed inside the message head");
            }
        }
    }

    private static HeadParseException LineTooLong(int status)
        => new(status == 400 ? 414 : status, "request line too long");

    private static HeadParseException TooLarge(int status)
        => new(status == 400 ? 431 : status, "message head too large");
}

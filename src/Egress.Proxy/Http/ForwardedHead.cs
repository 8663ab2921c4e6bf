using System.Buffers;
using System.Text;

namespace Egress.Proxy.Http;

/// <summary>
/// Builds the heads a proxy sends on: origin-form requests and relayed responses without hop-by-hop fields.
/// Heads are written as Latin-1 straight into a pooled buffer (no intermediate string): on a keep-alive
/// connection this runs twice per request.
/// </summary>
internal static class ForwardedHead
{
    /// <summary>The request head for the destination: origin-form target, the decided <paramref name="host"/>, end-to-end fields.</summary>
    public static PooledBytes Request(HttpHead head, string pathAndQuery, string host)
    {
        bool upgrade = UpgradeRules.Requested(head);
        var writer = new Writer(256);
        writer.StartLine(head.First, pathAndQuery, head.Third);
        writer.Field("Host", host);
        foreach (var field in head.Headers)
        {
            if (field.Is("Host") || (HopByHop.Is(field, head) && !(upgrade && field.Is("Upgrade"))))
            {
                continue;
            }

            writer.Field(field.Name, field.Value);
        }

        if (upgrade)
        {
            writer.Field("Connection", "upgrade");
        }

        writer.Append("\r\n");
        return writer.Finish(ReadOnlySpan<byte>.Empty);
    }

    /// <summary>
    /// The final response head for the client, with <c>Connection: close</c> when <paramref name="close"/>,
    /// followed by <paramref name="body"/> (body bytes already received, sent with the head in one write).
    /// </summary>
    public static PooledBytes Response(HttpHead response, bool close, int sizeHint, ReadOnlySpan<byte> body = default)
    {
        bool upgrade = response.Second == "101";

        // RFC 9112 6.3: Transfer-Encoding overrides Content-Length, which must then not be forwarded.
        bool transferCoded = response.Get("Transfer-Encoding") is not null;
        var writer = new Writer(sizeHint + 32 + body.Length);
        writer.StartLine(response.First, response.Second, response.Third);
        foreach (var field in response.Headers)
        {
            if ((HopByHop.Is(field, response) && !(upgrade && (field.Is("Upgrade") || field.Is("Connection"))))
                || (transferCoded && field.Is("Content-Length")))
            {
                continue;
            }

            writer.Field(field.Name, field.Value);
        }

        if (close)
        {
            writer.Field("Connection", "close");
        }

        writer.Append("\r\n");
        return writer.Finish(body);
    }

    private struct Writer(int capacity)
    {
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 256));
        private int _length;

        public void StartLine(string first, string second, string third)
        {
            Append(first);
            Append(" ");
            Append(second);
            Append(" ");
            Append(third);
            Append("\r\n");
        }

        public void Field(string name, string value)
        {
            Append(name);
            Append(": ");
            Append(value);
            Append("\r\n");
        }

        public void Append(string text)
        {
            // Header text came in as Latin-1 (HeadParser), so each char is one byte and the count is exact.
            Ensure(text.Length);
            _length += Encoding.Latin1.GetBytes(text, _buffer.AsSpan(_length));
        }

        public PooledBytes Finish(ReadOnlySpan<byte> tail)
        {
            Ensure(tail.Length);
            tail.CopyTo(_buffer.AsSpan(_length));
            return new PooledBytes(_buffer, _length + tail.Length);
        }

        private void Ensure(int more)
        {
            if (_length + more > _buffer.Length)
            {
                var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + more));
                _buffer.AsSpan(0, _length).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = bigger;
            }
        }
    }
}

/// <summary>Bytes in a buffer rented from <see cref="ArrayPool{T}.Shared"/>; <see cref="Dispose"/> gives it back (once).</summary>
internal readonly struct PooledBytes(byte[] buffer, int length) : IDisposable
{
    /// <summary>The bytes.</summary>
    public ReadOnlyMemory<byte> Memory => buffer.AsMemory(0, length);

    /// <summary>Number of bytes.</summary>
    public int Length => length;

    /// <inheritdoc />
    public void Dispose() => ArrayPool<byte>.Shared.Return(buffer);
}

using System.Buffers.Binary;
using System.Text;

namespace Egress.Isolation.Dns;

/// <summary>
/// Reads DNS query messages (RFC 1035 §4) from untrusted bytes. Never throws and never allocates more than the
/// question name.
/// </summary>
/// <remarks>
/// Written by hand, on purpose: ARSoft.Tools.Net 3.6.1 makes the Native AOT publish of the CLI report IL3053
/// (AOT analysis warnings in the assembly; checked with <c>dotnet publish -r linux-x64 -p:PublishAot=true</c>),
/// and DnsClient 1.8.0 is a resolver that exposes neither a reader for a query message nor a writer for a
/// response. A responder needs only the header and one question, which this reads with fixed bounds: the
/// message length (<see cref="MaxMessageLength"/>), the name length (255 octets, RFC 1035 §3.1), labels of 63
/// octets, and compression pointers that must point strictly before the previous one, so a loop cannot be
/// followed and at most 127 pointers are.
/// </remarks>
public static class DnsQueryReader
{
    /// <summary>The length of the DNS header.</summary>
    public const int HeaderLength = 12;

    /// <summary>The longest message read; a query is far shorter (one question of at most 255 + 4 octets, plus EDNS).</summary>
    public const int MaxMessageLength = 4096;

    /// <summary>The longest name on the wire, length octets included (RFC 1035 §3.1).</summary>
    public const int MaxNameLength = 255;

    private const int MaxLabelLength = 63;

    /// <summary>Reads <paramref name="message"/>.</summary>
    /// <param name="message">The message (a UDP datagram, or a TCP message without its length prefix).</param>
    /// <param name="query">
    /// The query when the status is <see cref="DnsReadStatus.Query"/>; for <see cref="DnsReadStatus.FormatError"/> and
    /// <see cref="DnsReadStatus.NotImplemented"/> only <see cref="DnsQuery.Id"/> and <see cref="DnsQuery.Flags"/> are set.
    /// </param>
    public static DnsReadStatus TryRead(ReadOnlySpan<byte> message, out DnsQuery query)
    {
        query = default;
        if (message.Length < HeaderLength)
        {
            return DnsReadStatus.Ignore;
        }

        ushort id = BinaryPrimitives.ReadUInt16BigEndian(message);
        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(message[2..]);
        if ((flags & 0x8000) != 0)
        {
            return DnsReadStatus.Ignore;
        }

        query = new DnsQuery(id, flags, string.Empty, 0, 0, false, HeaderLength);
        if (((flags >> 11) & 0xF) != 0)
        {
            return DnsReadStatus.NotImplemented;
        }

        ushort questions = BinaryPrimitives.ReadUInt16BigEndian(message[4..]);
        ushort answers = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);
        ushort authorities = BinaryPrimitives.ReadUInt16BigEndian(message[8..]);
        if (message.Length > MaxMessageLength || questions != 1 || answers != 0 || authorities != 0)
        {
            return DnsReadStatus.FormatError;
        }

        int offset = HeaderLength;
        if (!TryReadName(message, ref offset, out string name, out bool isHostName) || offset + 4 > message.Length)
        {
            return DnsReadStatus.FormatError;
        }

        ushort type = BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
        ushort @class = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 2)..]);
        query = new DnsQuery(id, flags, name, type, @class, isHostName, offset + 4);
        return DnsReadStatus.Query;
    }

    /// <summary>
    /// Reads the name at <paramref name="offset"/> (advanced past it, i.e. past its first pointer if any).
    /// </summary>
    internal static bool TryReadName(ReadOnlySpan<byte> message, ref int offset, out string name, out bool isHostName)
    {
        name = string.Empty;
        isHostName = true;
        Span<char> text = stackalloc char[MaxNameLength * 3];
        int written = 0;
        int wireLength = 0;
        int position = offset;
        int limit = position; // a pointer must point strictly before this (the start of the previous jump)
        int resume = -1;
        while (true)
        {
            if (position >= message.Length)
            {
                return false;
            }

            byte length = message[position];
            if ((length & 0xC0) == 0xC0)
            {
                if (position + 1 >= message.Length)
                {
                    return false;
                }

                int target = ((length & 0x3F) << 8) | message[position + 1];
                if (target < HeaderLength || target >= limit)
                {
                    return false;
                }

                if (resume < 0)
                {
                    resume = position + 2;
                }

                limit = target;
                position = target;
                continue;
            }

            if ((length & 0xC0) != 0)
            {
                return false; // 0x40 and 0x80: extended label types (RFC 6891 retired them)
            }

            wireLength += length + 1;
            if (wireLength > MaxNameLength)
            {
                return false;
            }

            if (length == 0)
            {
                offset = resume >= 0 ? resume : position + 1;
                break;
            }

            if (length > MaxLabelLength || position + 1 + length > message.Length)
            {
                return false;
            }

            if (written > 0)
            {
                text[written++] = '.';
            }

            foreach (byte b in message.Slice(position + 1, length))
            {
                written += Append(text[written..], b, ref isHostName);
            }

            position += 1 + length;
        }

        isHostName &= written > 0;
        name = new string(text[..written]);
        return true;
    }

    /// <summary>Writes one name octet: host-name octets lower-cased, anything else (dots in a label too) as <c>%XX</c>.</summary>
    private static int Append(Span<char> text, byte b, ref bool isHostName)
    {
        if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_')
        {
            text[0] = char.ToLowerInvariant((char)b);
            return 1;
        }

        isHostName = false;
        text[0] = '%';
        text[1] = "0123456789ABCDEF"[b >> 4];
        text[2] = "0123456789ABCDEF"[b & 0xF];
        return 3;
    }

    /// <summary>Encodes a dotted name as wire labels (for tests and the probe's own queries); false when it cannot be.</summary>
    public static bool TryWriteName(string name, Span<byte> destination, out int written)
    {
        ArgumentNullException.ThrowIfNull(name);
        written = 0;
        foreach (var label in name.TrimEnd('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            int count = Encoding.ASCII.GetByteCount(label);
            if (count > MaxLabelLength || written + 1 + count + 1 > Math.Min(destination.Length, MaxNameLength))
            {
                return false;
            }

            destination[written++] = (byte)count;
            written += Encoding.ASCII.GetBytes(label, destination[written..]);
        }

        if (written + 1 > destination.Length)
        {
            return false;
        }

        destination[written++] = 0;
        return true;
    }
}

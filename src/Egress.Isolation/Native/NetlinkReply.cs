using System.Buffers.Binary;

namespace Egress.Isolation.Native;

/// <summary>
/// One message of a netlink answer: its type, flags and sequence, and for <c>NLMSG_ERROR</c> the errno (0 is
/// the acknowledgement) and the kernel's extended-ACK text (<c>NLMSGERR_ATTR_MSG</c>) when it sent one.
/// </summary>
/// <param name="Type">nlmsg_type (e.g. <see cref="TypeError"/>).</param>
/// <param name="Flags">nlmsg_flags (e.g. <see cref="FlagMulti"/>).</param>
/// <param name="Sequence">nlmsg_seq: the request it answers.</param>
/// <param name="Error">For <c>NLMSG_ERROR</c>: 0 (ACK) or a negative errno; otherwise 0.</param>
/// <param name="Detail">The extended-ACK message, or null.</param>
internal readonly record struct NetlinkReply(ushort Type, ushort Flags, uint Sequence, int Error, string? Detail)
{
    /// <summary><c>NLMSG_ERROR</c>: an acknowledgement or an error.</summary>
    public const ushort TypeError = 2;

    /// <summary><c>NLMSG_DONE</c>: the end of a multipart answer.</summary>
    public const ushort TypeDone = 3;

    /// <summary><c>NLM_F_MULTI</c>.</summary>
    public const ushort FlagMulti = 2;

    /// <summary><c>NLM_F_CAPPED</c>: the error carries only the request's header, not its payload.</summary>
    public const ushort FlagCapped = 0x100;

    /// <summary><c>NLM_F_ACK_TLVS</c>: extended-ACK attributes follow.</summary>
    public const ushort FlagAckTlvs = 0x200;

    private const int HeaderLength = NetlinkMessageWriter.HeaderLength;
    private const ushort AttributeMessage = 1; // NLMSGERR_ATTR_MSG
    private const int MaxDetail = 512;

    /// <summary>Whether this is an <c>NLMSG_ERROR</c> with a non-zero errno.</summary>
    public bool IsError => Type == TypeError && Error != 0;

    /// <summary>Whether this is the acknowledgement (<c>NLMSG_ERROR</c> with 0).</summary>
    public bool IsAck => Type == TypeError && Error == 0;

    /// <summary>
    /// Reads every whole message of one received datagram into <paramref name="replies"/>. Never reads past a
    /// length field or the buffer; returns false when the datagram is malformed (a length below the header,
    /// beyond the buffer, or an <c>NLMSG_ERROR</c> too short for its errno) — the messages before it are kept.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, List<NetlinkReply> replies)
    {
        ArgumentNullException.ThrowIfNull(replies);
        while (datagram.Length > 0)
        {
            if (datagram.Length < HeaderLength)
            {
                return false;
            }

            uint length = BinaryPrimitives.ReadUInt32LittleEndian(datagram);
            if (length < HeaderLength || length > (uint)datagram.Length)
            {
                return false;
            }

            var message = datagram[..(int)length];
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(message[4..]);
            ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(message[6..]);
            uint sequence = BinaryPrimitives.ReadUInt32LittleEndian(message[8..]);
            int error = 0;
            string? detail = null;
            if (type == TypeError)
            {
                if (!TryReadError(message[HeaderLength..], flags, out error, out detail))
                {
                    return false;
                }
            }

            replies.Add(new NetlinkReply(type, flags, sequence, error, detail));
            int next = (int)Math.Min(((long)length + 3) & ~3L, datagram.Length);
            datagram = datagram[next..];
        }

        return true;
    }

    // struct nlmsgerr { int error; struct nlmsghdr msg; } then (unless capped) the request's payload, then
    // (with NLM_F_ACK_TLVS) attributes.
    private static bool TryReadError(ReadOnlySpan<byte> body, ushort flags, out int error, out string? detail)
    {
        error = 0;
        detail = null;
        if (body.Length < 4)
        {
            return false;
        }

        error = BinaryPrimitives.ReadInt32LittleEndian(body);
        if ((flags & FlagAckTlvs) == 0 || body.Length < 4 + HeaderLength)
        {
            return true;
        }

        int skip = 4 + HeaderLength;
        if ((flags & FlagCapped) == 0)
        {
            uint requestLength = BinaryPrimitives.ReadUInt32LittleEndian(body[4..]);
            if (requestLength < HeaderLength || requestLength > (uint)(body.Length - 4))
            {
                return true; // the errno is known; attributes we cannot place are ignored
            }

            skip = 4 + (int)((requestLength + 3) & ~3u);
        }

        detail = FindMessage(body[Math.Min(skip, body.Length)..]);
        return true;
    }

    private static string? FindMessage(ReadOnlySpan<byte> attributes)
    {
        while (attributes.Length >= 4)
        {
            int length = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
            int type = BinaryPrimitives.ReadUInt16LittleEndian(attributes[2..]) & 0x3FFF;
            if (length < 4 || length > attributes.Length)
            {
                return null;
            }

            if (type == AttributeMessage)
            {
                var text = attributes[4..length];
                int end = text.IndexOf((byte)0);
                text = end >= 0 ? text[..end] : text;
                text = text[..Math.Min(text.Length, MaxDetail)];
                // Kernel text, but it ends up in one-line error messages: no control characters.
                return string.Create(text.Length, text.ToArray(), static (chars, bytes) =>
                {
                    for (int i = 0; i < chars.Length; i++)
                    {
                        chars[i] = bytes[i] is >= 0x20 and < 0x7F ? (char)bytes[i] : '?';
                    }
                });
            }

            attributes = attributes[Math.Min((length + 3) & ~3, attributes.Length)..];
        }

        return null;
    }
}

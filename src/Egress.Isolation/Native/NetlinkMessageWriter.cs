using System.Buffers.Binary;
using System.Text;

namespace Egress.Isolation.Native;

/// <summary>
/// Writes netlink messages (<c>nlmsghdr</c>, a fixed family header, then type-length-value attributes, nested
/// ones included) into one growing buffer that is sent as a single datagram. Written by hand: .NET has no
/// netlink library, and none exists for nf_tables messages (libmnl/libnftnl are C); the encoding is the small,
/// stable kernel ABI of <c>linux/netlink.h</c>. Host byte order for netlink's own fields (Linux x64/arm64:
/// little-endian), network order where the kernel wants it (nf_tables attribute values), chosen per call.
/// </summary>
internal sealed class NetlinkMessageWriter
{
    /// <summary>Length of <c>struct nlmsghdr</c>.</summary>
    public const int HeaderLength = 16;

    /// <summary><c>NLA_F_NESTED</c>: marks an attribute whose value is more attributes.</summary>
    public const ushort Nested = 0x8000;

    private byte[] _buffer = new byte[1024];
    private int _length;
    private int _message = -1;

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    /// <summary>Starts a message; end it with <see cref="EndMessage"/>.</summary>
    public void BeginMessage(ushort type, ushort flags, uint sequence)
    {
        if (_message >= 0)
        {
            throw new InvalidOperationException("a netlink message is already open");
        }

        _message = _length;
        var header = Reserve(HeaderLength);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], sequence);
        // nlmsg_pid 0: the kernel fills in the sender's port.
    }

    /// <summary>Writes the message's length and pads it to the 4-byte boundary the next one starts on.</summary>
    public void EndMessage()
    {
        if (_message < 0)
        {
            throw new InvalidOperationException("no netlink message is open");
        }

        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_message), (uint)(_length - _message));
        Pad();
        _message = -1;
    }

    /// <summary>Raw bytes (a family header such as <c>ifinfomsg</c>), padded to 4.</summary>
    public Span<byte> Fixed(int length)
    {
        var span = Reserve(length);
        Pad();
        return span;
    }

    /// <summary>An attribute with a raw value.</summary>
    public void Attribute(ushort type, ReadOnlySpan<byte> value)
    {
        var header = Reserve(4);
        BinaryPrimitives.WriteUInt16LittleEndian(header, checked((ushort)(4 + value.Length)));
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], type);
        value.CopyTo(Reserve(value.Length));
        Pad();
    }

    /// <summary>A 32-bit attribute in network byte order (nf_tables).</summary>
    public void AttributeBigEndian(ushort type, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        Attribute(type, bytes);
    }

    /// <summary>A 16-bit attribute in network byte order.</summary>
    public void AttributeBigEndian(ushort type, ushort value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, value);
        Attribute(type, bytes);
    }

    /// <summary>A 32-bit attribute in host byte order (rtnetlink).</summary>
    public void AttributeHost(ushort type, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        Attribute(type, bytes);
    }

    /// <summary>A NUL-terminated string attribute.</summary>
    public void Attribute(ushort type, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Span<byte> bytes = stackalloc byte[Encoding.UTF8.GetByteCount(value) + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        bytes[^1] = 0;
        Attribute(type, bytes);
    }

    /// <summary>Starts a nested attribute; returns the position <see cref="EndNested"/> needs.</summary>
    public int BeginNested(ushort type)
    {
        int start = _length;
        BinaryPrimitives.WriteUInt16LittleEndian(Reserve(4)[2..], (ushort)(type | Nested));
        return start;
    }

    /// <summary>Ends the nested attribute started at <paramref name="start"/>.</summary>
    public void EndNested(int start) =>
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(start), checked((ushort)(_length - start)));

    private Span<byte> Reserve(int count)
    {
        if (_length + count > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + count));
        }

        var span = _buffer.AsSpan(_length, count);
        span.Clear();
        _length += count;
        return span;
    }

    private void Pad()
    {
        int padded = (_length + 3) & ~3;
        Reserve(padded - _length);
    }
}

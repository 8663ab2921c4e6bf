using System.Buffers.Binary;

namespace Egress.Proxy.Tls;

/// <summary>A bounds-checked reader over TLS wire bytes: every read says whether the bytes were there, none throws.</summary>
internal ref struct TlsCursor(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _pos;

    public readonly int Remaining => _data.Length - _pos;

    public bool TryByte(out byte value)
    {
        if (Remaining < 1)
        {
            value = 0;
            return false;
        }

        value = _data[_pos++];
        return true;
    }

    public bool TryUInt16(out int value)
    {
        if (Remaining < 2)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadUInt16BigEndian(_data.Slice(_pos, 2));
        _pos += 2;
        return true;
    }

    public bool TrySkip(int count)
    {
        if (Remaining < count)
        {
            return false;
        }

        _pos += count;
        return true;
    }

    public bool TrySlice(int count, out ReadOnlySpan<byte> slice)
    {
        if (Remaining < count)
        {
            slice = default;
            return false;
        }

        slice = _data.Slice(_pos, count);
        _pos += count;
        return true;
    }
}

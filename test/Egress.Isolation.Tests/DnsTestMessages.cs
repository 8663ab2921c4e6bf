using System.Buffers.Binary;
using Egress.Isolation.Dns;

namespace Egress.Isolation.Tests;

/// <summary>Builds DNS messages for tests.</summary>
internal static class DnsTestMessages
{
    public static byte[] Query(string name, ushort type, ushort id = 0x1234, ushort @class = DnsRecordTypes.ClassInternet, ushort flags = 0x0100)
    {
        var buffer = new byte[DnsQueryReader.HeaderLength + DnsQueryReader.MaxNameLength + 4];
        BinaryPrimitives.WriteUInt16BigEndian(buffer, id);
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(2), flags);
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(4), 1);
        Assert.True(DnsQueryReader.TryWriteName(name, buffer.AsSpan(DnsQueryReader.HeaderLength), out int written));
        int offset = DnsQueryReader.HeaderLength + written;
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(offset), type);
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(offset + 2), @class);
        return buffer[..(offset + 4)];
    }

    public static byte[] Raw(ushort questions, params byte[] afterHeader)
    {
        var buffer = new byte[DnsQueryReader.HeaderLength + afterHeader.Length];
        BinaryPrimitives.WriteUInt16BigEndian(buffer, 7);
        BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(4), questions);
        afterHeader.CopyTo(buffer, DnsQueryReader.HeaderLength);
        return buffer;
    }

    public static int ResponseCode(ReadOnlySpan<byte> response) => BinaryPrimitives.ReadUInt16BigEndian(response[2..]) & 0xF;

    public static int AnswerCount(ReadOnlySpan<byte> response) => BinaryPrimitives.ReadUInt16BigEndian(response[6..]);
}

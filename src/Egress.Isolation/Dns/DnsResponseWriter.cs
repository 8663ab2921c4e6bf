using System.Buffers.Binary;
using System.Net;

namespace Egress.Isolation.Dns;

/// <summary>Writes the responder's answers: the header, the query's question copied verbatim, and at most one address record.</summary>
internal static class DnsResponseWriter
{
    /// <summary>The longest response written: header, a question of 255 + 4 octets, one AAAA record.</summary>
    public const int MaxResponseLength = DnsQueryReader.HeaderLength + DnsQueryReader.MaxNameLength + 4 + 12 + 16;

    /// <summary>Writes a response with only a header (FORMERR, NOTIMP: the question could not be read).</summary>
    public static int WriteHeaderOnly(Span<byte> response, in DnsQuery query, DnsResponseCode code)
    {
        WriteHeader(response, query, code, questions: 0, answers: 0);
        return DnsQueryReader.HeaderLength;
    }

    /// <summary>Writes a response to <paramref name="query"/> with <paramref name="answer"/> (an A or AAAA record) or none.</summary>
    public static int Write(Span<byte> response, ReadOnlySpan<byte> message, in DnsQuery query, DnsResponseCode code, IPAddress? answer, uint ttl)
    {
        WriteHeader(response, query, code, questions: 1, answers: answer is null ? (ushort)0 : (ushort)1);
        var question = message[DnsQueryReader.HeaderLength..query.QuestionEnd];
        question.CopyTo(response[DnsQueryReader.HeaderLength..]);
        int offset = query.QuestionEnd;
        if (answer is null)
        {
            return offset;
        }

        var record = response[offset..];
        BinaryPrimitives.WriteUInt16BigEndian(record, 0xC000 | DnsQueryReader.HeaderLength); // the question's name
        BinaryPrimitives.WriteUInt16BigEndian(record[2..], query.Type);
        BinaryPrimitives.WriteUInt16BigEndian(record[4..], DnsRecordTypes.ClassInternet);
        BinaryPrimitives.WriteUInt32BigEndian(record[6..], ttl);
        answer.TryWriteBytes(record[12..], out int length);
        BinaryPrimitives.WriteUInt16BigEndian(record[10..], (ushort)length);
        return offset + 12 + length;
    }

    private static void WriteHeader(Span<byte> response, in DnsQuery query, DnsResponseCode code, ushort questions, ushort answers)
    {
        // QR, the query's opcode, AA, the query's RD, RA, the code.
        int flags = 0x8000 | (query.Flags & 0x7800) | 0x0400 | (query.Flags & 0x0100) | 0x0080 | (int)code;
        BinaryPrimitives.WriteUInt16BigEndian(response, query.Id);
        BinaryPrimitives.WriteUInt16BigEndian(response[2..], (ushort)flags);
        BinaryPrimitives.WriteUInt16BigEndian(response[4..], questions);
        BinaryPrimitives.WriteUInt16BigEndian(response[6..], answers);
        BinaryPrimitives.WriteUInt32BigEndian(response[8..], 0);
    }
}

using System.Buffers.Binary;
using System.Net;

namespace Egress.Isolation.Dns;

/// <summary>Writes the responder's answers: the header, the query's question copied verbatim, and at most one address record.</summary>
internal static class DnsResponseWriter
{
    /// <summary>
    /// The longest response written: header, a question of 255 + 4 octets, one record of at most a name (a PTR;
    /// the question of a reverse name is at most 74 octets, so a real PTR answer stays under 512).
    /// </summary>
    public const int MaxResponseLength = DnsQueryReader.HeaderLength + DnsQueryReader.MaxNameLength + 4 + 12 + DnsQueryReader.MaxNameLength;

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

    /// <summary>Writes a NOERROR response to <paramref name="query"/> (a PTR query) with one PTR record naming <paramref name="name"/>.</summary>
    /// <param name="response">The buffer.</param>
    /// <param name="message">The query message (its question is copied).</param>
    /// <param name="query">The query read from it.</param>
    /// <param name="name">A canonical host name (ASCII labels of at most 63 octets, at most 253 octets).</param>
    /// <param name="ttl">The record's TTL.</param>
    public static int WritePointer(Span<byte> response, ReadOnlySpan<byte> message, in DnsQuery query, string name, uint ttl)
    {
        WriteHeader(response, query, DnsResponseCode.NoError, questions: 1, answers: 1);
        message[DnsQueryReader.HeaderLength..query.QuestionEnd].CopyTo(response[DnsQueryReader.HeaderLength..]);
        int offset = query.QuestionEnd;
        var record = response[offset..];
        BinaryPrimitives.WriteUInt16BigEndian(record, 0xC000 | DnsQueryReader.HeaderLength);
        BinaryPrimitives.WriteUInt16BigEndian(record[2..], DnsRecordTypes.DomainPointer);
        BinaryPrimitives.WriteUInt16BigEndian(record[4..], DnsRecordTypes.ClassInternet);
        BinaryPrimitives.WriteUInt32BigEndian(record[6..], ttl);
        int length = 0;
        var data = record[12..];
        foreach (var label in name.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            data[length++] = (byte)label.Length;
            length += System.Text.Encoding.ASCII.GetBytes(label, data[length..]);
        }

        data[length++] = 0;
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

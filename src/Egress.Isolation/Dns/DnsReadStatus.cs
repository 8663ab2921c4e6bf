namespace Egress.Isolation.Dns;

/// <summary>What <see cref="DnsQueryReader.TryRead"/> made of a message.</summary>
public enum DnsReadStatus
{
    /// <summary>A standard query with one question: answer it.</summary>
    Query,

    /// <summary>Not worth an answer: shorter than a header, or a response (QR set) — answering those could loop.</summary>
    Ignore,

    /// <summary>A malformed query (bad name, compression loop, truncated, several questions, records in the answer or authority section): answer FORMERR.</summary>
    FormatError,

    /// <summary>An opcode other than QUERY (NOTIFY, UPDATE, …): answer NOTIMP.</summary>
    NotImplemented,
}

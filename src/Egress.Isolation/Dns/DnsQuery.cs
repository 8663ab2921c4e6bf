namespace Egress.Isolation.Dns;

/// <summary>A DNS query as read from the wire: the header fields a response echoes and its one question.</summary>
/// <param name="Id">The message ID (echoed in the response).</param>
/// <param name="Flags">The header flags word (opcode and RD are echoed).</param>
/// <param name="Name">
/// The question name: lower-case labels joined by dots, without the trailing dot (the root is empty). Bytes that
/// cannot appear in a host name are written as <c>%XX</c>, and <paramref name="IsHostName"/> is false.
/// </param>
/// <param name="Type">The question type (1 = A, 28 = AAAA, 16 = TXT, …).</param>
/// <param name="Class">The question class (1 = IN).</param>
/// <param name="IsHostName">Whether every label holds only letters, digits, '-' and '_' and the name is not the root.</param>
/// <param name="QuestionEnd">Offset just past the question in the message (a response copies the question bytes verbatim, case included).</param>
public readonly record struct DnsQuery(ushort Id, ushort Flags, string Name, ushort Type, ushort Class, bool IsHostName, int QuestionEnd)
{
    /// <summary>The opcode (0 = QUERY).</summary>
    public int Opcode => (Flags >> 11) & 0xF;

    /// <summary>Whether the client asked for recursion.</summary>
    public bool RecursionDesired => (Flags & 0x0100) != 0;
}

namespace Egress.Isolation.Dns;

/// <summary>The DNS record types and classes the responder answers differently (RFC 1035, RFC 3596).</summary>
public static class DnsRecordTypes
{
    /// <summary>IPv4 address.</summary>
    public const ushort A = 1;

    /// <summary>Domain name pointer (reverse lookups).</summary>
    public const ushort DomainPointer = 12;

    /// <summary>Text.</summary>
    public const ushort Txt = 16;

    /// <summary>IPv6 address.</summary>
    public const ushort Aaaa = 28;

    /// <summary>The Internet class.</summary>
    public const ushort ClassInternet = 1;
}

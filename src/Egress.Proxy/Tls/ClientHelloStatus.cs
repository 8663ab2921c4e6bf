namespace Egress.Proxy.Tls;

/// <summary>What <see cref="ClientHelloReader"/> could tell from the first bytes of a stream.</summary>
public enum ClientHelloStatus
{
    /// <summary>The bytes so far are a valid prefix; read at least <see cref="ClientHello.BytesNeeded"/> bytes and ask again.</summary>
    Incomplete,

    /// <summary>The stream does not start with a TLS record: some other protocol (or an SSLv2-format hello, which carries no name).</summary>
    NotTls,

    /// <summary>
    /// The stream starts like TLS but is not one well-formed ClientHello within the bounds (wrong first record
    /// or message, bad lengths, a duplicate or unreadable server name, too large, too many records).
    /// Callers that enforce a policy treat this as a denial.
    /// </summary>
    Malformed,

    /// <summary>A complete, well-formed ClientHello was read.</summary>
    Complete,
}

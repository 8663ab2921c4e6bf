namespace Egress.Isolation.Dns;

/// <summary>The response codes the responder sends (RFC 1035 §4.1.1).</summary>
public enum DnsResponseCode
{
    /// <summary>An answer, or no record of that type (NODATA).</summary>
    NoError = 0,

    /// <summary>The query could not be read.</summary>
    FormatError = 1,

    /// <summary>The responder could not answer (the synthetic address pool is full).</summary>
    ServerFailure = 2,

    /// <summary>The name does not exist: the policy denies it.</summary>
    NameError = 3,

    /// <summary>The opcode is not supported.</summary>
    NotImplemented = 4,

    /// <summary>Refused: a class other than IN.</summary>
    Refused = 5,
}

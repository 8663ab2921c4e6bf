namespace Egress.Proxy.Http;

/// <summary>How a message body is delimited (RFC 9112 §6).</summary>
internal enum BodyFraming
{
    /// <summary>No body.</summary>
    None,

    /// <summary>Exactly Content-Length bytes.</summary>
    Length,

    /// <summary>Chunked transfer coding.</summary>
    Chunked,

    /// <summary>Until the sender closes the connection (responses only).</summary>
    UntilClose,
}

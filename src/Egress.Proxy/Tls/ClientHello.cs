namespace Egress.Proxy.Tls;

/// <summary>The result of reading the start of a stream as a TLS ClientHello.</summary>
public readonly record struct ClientHello
{
    /// <summary>What the bytes are.</summary>
    public ClientHelloStatus Status { get; init; }

    /// <summary>
    /// The <c>server_name</c> host name exactly as sent (ASCII letters, digits, <c>-</c>, <c>_</c> and dots;
    /// case and a trailing dot kept), or null when the ClientHello has no server name. Only set when
    /// <see cref="Status"/> is <see cref="ClientHelloStatus.Complete"/>. With ECH this is the outer
    /// (public) name: the only one an observer can see.
    /// </summary>
    public string? ServerName { get; init; }

    /// <summary>Whether the ClientHello carries an <c>encrypted_client_hello</c> extension (the real name is encrypted).</summary>
    public bool HasEncryptedClientHello { get; init; }

    /// <summary>
    /// For <see cref="ClientHelloStatus.Incomplete"/>: the smallest total number of stream bytes at which
    /// reading again can make progress (asking with fewer only repeats the same answer).
    /// For <see cref="ClientHelloStatus.Complete"/>: the number of bytes the ClientHello occupied.
    /// </summary>
    public int BytesNeeded { get; init; }

    /// <summary>For <see cref="ClientHelloStatus.Malformed"/> and <see cref="ClientHelloStatus.NotTls"/>: why, in a few words.</summary>
    public string? Problem { get; init; }
}

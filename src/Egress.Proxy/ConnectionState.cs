namespace Egress.Proxy;

/// <summary>What a client connection is doing; decides which timeout applies to it.</summary>
internal enum ConnectionState
{
    /// <summary>Waiting for (the rest of) a request head: the header timeout applies.</summary>
    ReadingHead,

    /// <summary>Keep-alive connection between requests: the idle timeout applies.</summary>
    AwaitingRequest,

    /// <summary>Forwarding a request/response or relaying a tunnel: the idle timeout applies.</summary>
    Busy,

    /// <summary>
    /// Resolving and connecting the destination: neither timeout applies (the connector's own
    /// <see cref="ProxyOptions.ConnectTimeout"/> does) — a client waiting for a slow upstream is not idle.
    /// </summary>
    Connecting,
}

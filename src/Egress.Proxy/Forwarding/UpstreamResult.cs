using System.Net.Sockets;
using Egress.Policy;

namespace Egress.Proxy.Forwarding;

/// <summary>The outcome of deciding and connecting: a connected socket, or the response to send instead.</summary>
internal sealed class UpstreamResult
{
    /// <summary>The connected socket (to a checked address), or null.</summary>
    public Socket? Socket { get; init; }

    /// <summary>The decision recorded for this request.</summary>
    public EgressDecision Decision { get; init; }

    /// <summary>The response to send when <see cref="Socket"/> is null.</summary>
    public byte[]? Response { get; init; }
}

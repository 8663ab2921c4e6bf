namespace Egress.Isolation.Probe;

/// <summary>
/// One escape route <c>run --probe</c> tries from inside the isolated child: what it is, and how its
/// attempt is matched to the target it aims at and to the policy's events.
/// </summary>
/// <param name="Name">Stable identifier (JSON, the canary's argument).</param>
/// <param name="Description">What the canary does, for the table.</param>
public sealed record ProbeRoute(string Name, string Description)
{
    /// <summary>HTTP through <c>HTTP_PROXY</c> (as set by run) to a denied host: the proxy must refuse it.</summary>
    public static readonly ProbeRoute Proxy = new("proxy", "HTTP via HTTP_PROXY to a denied host");

    /// <summary>HTTP straight to a denied address, ignoring the proxy variables (UseProxy = false).</summary>
    public static readonly ProbeRoute HttpNoProxy = new("http-noproxy", "HTTP ignoring the proxy variables");

    /// <summary><c>curl --noproxy '*'</c> to a denied address (skipped when curl is not on PATH).</summary>
    public static readonly ProbeRoute CurlNoProxy = new("curl-noproxy", "curl --noproxy '*'");

    /// <summary>A raw TCP connection to a denied IPv4 address, with data written.</summary>
    public static readonly ProbeRoute Tcp = new("tcp", "raw TCP to a denied IPv4 address");

    /// <summary>A raw TCP connection to a denied IPv6 address (skipped when this machine has no ::1).</summary>
    public static readonly ProbeRoute Ipv6 = new("ipv6", "raw TCP to a denied IPv6 address");

    /// <summary>A UDP datagram to a denied address.</summary>
    public static readonly ProbeRoute Udp = new("udp", "UDP datagram");

    /// <summary>A DNS TXT query of a denied name, to the resolver the child is configured with.</summary>
    public static readonly ProbeRoute DnsTxt = new("dns-txt", "DNS TXT query of a denied name");

    /// <summary>HTTP through a proxy of the child's own choosing (a proxy variable pointed elsewhere).</summary>
    public static readonly ProbeRoute ProxyElsewhere = new("proxy-elsewhere", "a proxy variable pointed elsewhere");

    /// <summary>Every route, in table order.</summary>
    public static IReadOnlyList<ProbeRoute> All { get; } = [Proxy, HttpNoProxy, CurlNoProxy, Tcp, Ipv6, Udp, DnsTxt, ProxyElsewhere];
}

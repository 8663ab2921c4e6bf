namespace Egress.Policy;

/// <summary>The event source of each enforcement point (the <c>source</c> field of an event and the metrics' source tag).</summary>
public static class EgressSources
{
    /// <summary><c>egress-policy check</c>.</summary>
    public const string Check = "check";

    /// <summary>The in-process HttpClient handler, connect callback and guard.</summary>
    public const string Http = "http";

    /// <summary>The egress proxy (CONNECT and plain HTTP).</summary>
    public const string Proxy = "proxy";

    /// <summary>Transparently redirected TCP connections.</summary>
    public const string Transparent = "transparent";

    /// <summary>DNS queries.</summary>
    public const string Dns = "dns";

    /// <summary>UDP datagrams.</summary>
    public const string Udp = "udp";

    /// <summary>Relayed connections (a namespace's relay to the proxy).</summary>
    public const string Relay = "relay";
}

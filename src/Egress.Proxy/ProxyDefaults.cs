namespace Egress.Proxy;

/// <summary>Default limits of the proxy, in one place (docs/proxy.md lists them).</summary>
public static class ProxyDefaults
{
    /// <summary>Default listen address.</summary>
    public const string Listen = "127.0.0.1:3128";

    /// <summary>Largest request line (method, target, version).</summary>
    public const int MaxRequestLineBytes = 8 * 1024;

    /// <summary>Largest request or response head (request line plus header fields).</summary>
    public const int MaxHeaderBytes = 32 * 1024;

    /// <summary>Most header fields in one head.</summary>
    public const int MaxHeaderCount = 128;

    /// <summary>Time a client has to send a complete request head (slowloris guard).</summary>
    public static readonly TimeSpan HeaderTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Time without traffic after which a tunnel, a forwarded exchange or an idle keep-alive connection is closed.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Time allowed for name resolution plus the TCP connect to the destination.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Time running exchanges get to finish on shutdown before they are cut.</summary>
    public static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(5);

    /// <summary>Most simultaneous client connections; further ones get 503 and are closed.</summary>
    public const int MaxConnections = 16_384;

    /// <summary>Path of the health endpoint served in origin-form.</summary>
    public const string HealthPath = "/healthz";
}

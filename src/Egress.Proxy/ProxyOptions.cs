using System.Net;

namespace Egress.Proxy;

/// <summary>Configuration of one <see cref="EgressProxyServer"/>. Immutable; defaults from <see cref="ProxyDefaults"/>.</summary>
public sealed record ProxyOptions
{
    /// <summary>Address and port to listen on; port 0 picks a free port (see <see cref="EgressProxyServer.LocalEndPoint"/>).</summary>
    public IPEndPoint Listen { get; init; } = new(IPAddress.Loopback, 3128);

    /// <summary>Largest request line in bytes; longer gets 414.</summary>
    public int MaxRequestLineBytes { get; init; } = ProxyDefaults.MaxRequestLineBytes;

    /// <summary>Largest head (request line plus header fields) in bytes; larger gets 431.</summary>
    public int MaxHeaderBytes { get; init; } = ProxyDefaults.MaxHeaderBytes;

    /// <summary>Most header fields in a head; more gets 431.</summary>
    public int MaxHeaderCount { get; init; } = ProxyDefaults.MaxHeaderCount;

    /// <summary>Time a client has to send a complete request head; slower gets 408 and the connection is closed.</summary>
    public TimeSpan HeaderTimeout { get; init; } = ProxyDefaults.HeaderTimeout;

    /// <summary>Time without traffic after which tunnels and idle connections are closed.</summary>
    public TimeSpan IdleTimeout { get; init; } = ProxyDefaults.IdleTimeout;

    /// <summary>Time for name resolution plus connecting to the destination; slower gets 504.</summary>
    public TimeSpan ConnectTimeout { get; init; } = ProxyDefaults.ConnectTimeout;

    /// <summary>Time running exchanges get to finish on shutdown.</summary>
    public TimeSpan ShutdownGrace { get; init; } = ProxyDefaults.ShutdownGrace;

    /// <summary>Most simultaneous client connections; further ones get 503.</summary>
    public int MaxConnections { get; init; } = ProxyDefaults.MaxConnections;

    /// <summary>
    /// Answers origin-form <c>GET</c> requests for paths other than <see cref="ProxyDefaults.HealthPath"/>
    /// (e.g. <c>/metrics</c>): given the path, returns the content type and body, or <see langword="null"/> for 404.
    /// </summary>
    public Func<string, (string ContentType, string Body)?>? LocalEndpoint { get; init; }

    /// <summary>Text appended to the <c>/healthz</c> answer (<c>ok sha256=…</c>): the gateway names the policy it enforces.</summary>
    public Func<string?>? HealthDetail { get; init; }

    /// <summary>Chain every allowed connection through this upstream proxy (after deciding), or connect directly when null.</summary>
    public Gateway.UpstreamProxy? UpstreamProxy { get; init; }

    /// <summary>Serve clients over TLS (the gateway's listener, optionally verifying client certificates), or plain TCP when null.</summary>
    public Gateway.GatewayTls? Tls { get; init; }

    /// <summary>
    /// Refuses limits no proxy can serve with, naming the property: a zero or negative size, count or timeout
    /// would otherwise fail every connection later, one by one, with nothing said at start-up.
    /// </summary>
    /// <exception cref="ArgumentException">A limit is out of range.</exception>
    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Listen, nameof(Listen));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRequestLineBytes, 1, nameof(MaxRequestLineBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxHeaderBytes, 1, nameof(MaxHeaderBytes));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxHeaderCount, nameof(MaxHeaderCount));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnections, 1, nameof(MaxConnections));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HeaderTimeout, TimeSpan.Zero, nameof(HeaderTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(IdleTimeout, TimeSpan.Zero, nameof(IdleTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectTimeout, TimeSpan.Zero, nameof(ConnectTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(ShutdownGrace, TimeSpan.Zero, nameof(ShutdownGrace));
    }

    /// <summary>Parses <c>host:port</c>, <c>[v6]:port</c> or a bare port (loopback) into an endpoint.</summary>
    public static bool TryParseListen(string? text, out IPEndPoint? endPoint)
    {
        endPoint = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int bare))
        {
            if (bare is < 0 or > 65535)
            {
                return false;
            }

            endPoint = new IPEndPoint(IPAddress.Loopback, bare);
            return true;
        }

        if (text.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase))
        {
            text = "127.0.0.1" + text["localhost".Length..];
        }

        return IPEndPoint.TryParse(text, out endPoint) && text.Contains(':', StringComparison.Ordinal) && (endPoint.Address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6 || text.StartsWith('['));
    }
}

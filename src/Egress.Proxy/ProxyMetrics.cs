using System.Diagnostics.Metrics;

namespace Egress.Proxy;

/// <summary>
/// Names of the proxy's instruments on the <c>Egress.Proxy</c> meter (exported by whatever listens to
/// <c>Egress.*</c> meters; dotted lower case with UCUM units; tags bounded), and the process default
/// <see cref="ProxyInstruments"/> for code that is given none. The static members forward to <see cref="Default"/>.
/// </summary>
public static class ProxyMetrics
{
    /// <summary>Name of the meter.</summary>
    public const string MeterName = "Egress.Proxy";

    /// <summary>Tag naming the direction of transferred bytes: <c>transmit</c> (to the destination) or <c>receive</c>.</summary>
    public const string DirectionTag = "network.io.direction";

    /// <summary>Tag naming the kind of request: <c>connect</c> or <c>http</c>.</summary>
    public const string KindTag = "egress.proxy.kind";

    /// <summary>Tag naming the decision: <c>allow</c> or <c>deny</c>.</summary>
    public const string ActionTag = "egress.action";

    /// <summary>Tag naming why a connection was rejected.</summary>
    public const string ErrorTypeTag = "error.type";

    private static readonly Lazy<ProxyInstruments> DefaultInstance = new(() => new ProxyInstruments());

    /// <summary>The instruments of a proxy that was given none (on a meter of their own).</summary>
    public static ProxyInstruments Default => DefaultInstance.Value;

    internal static UpDownCounter<long> ActiveConnections => Default.ActiveConnections;

    internal static UpDownCounter<long> ActiveTunnels => Default.ActiveTunnels;

    internal static void AddTransmitted(int bytes) => Default.AddTransmitted(bytes);

    internal static void AddReceived(int bytes) => Default.AddReceived(bytes);

    internal static void Request(string kind, bool allowed) => Default.Request(kind, allowed);

    internal static void Reject(string errorType) => Default.Reject(errorType);
}

using System.Diagnostics.Metrics;

namespace Egress.Proxy;

/// <summary>
/// The proxy's instruments on the <c>Egress.Proxy</c> meter (exported by whatever listens to <c>Egress.*</c>
/// meters). Names are dotted lower case with UCUM units; tags are bounded.
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

    private static readonly Meter Meter = new(MeterName, typeof(ProxyMetrics).Assembly.GetName().Version?.ToString());

    private static readonly KeyValuePair<string, object?> Transmit = new(DirectionTag, "transmit");
    private static readonly KeyValuePair<string, object?> Receive = new(DirectionTag, "receive");

    internal static readonly UpDownCounter<long> ActiveConnections =
        Meter.CreateUpDownCounter<long>("egress.proxy.connections.active", "{connection}", "Client connections currently open.");

    internal static readonly UpDownCounter<long> ActiveTunnels =
        Meter.CreateUpDownCounter<long>("egress.proxy.tunnels.active", "{tunnel}", "CONNECT tunnels and upgraded connections currently open.");

    internal static readonly Counter<long> Transferred =
        Meter.CreateCounter<long>("egress.proxy.transferred", "By", "Bytes relayed between clients and destinations.");

    internal static readonly Counter<long> Requests =
        Meter.CreateCounter<long>("egress.proxy.requests", "{request}", "CONNECT and plain-HTTP requests decided.");

    internal static readonly Counter<long> Rejected =
        Meter.CreateCounter<long>("egress.proxy.rejected", "{connection}", "Requests refused before a decision (limits, timeouts, malformed input).");

    internal static void AddTransmitted(int bytes)
    {
        if (Transferred.Enabled)
        {
            Transferred.Add(bytes, Transmit);
        }
    }

    internal static void AddReceived(int bytes)
    {
        if (Transferred.Enabled)
        {
            Transferred.Add(bytes, Receive);
        }
    }

    internal static void Request(string kind, bool allowed)
    {
        if (Requests.Enabled)
        {
            Requests.Add(1, new KeyValuePair<string, object?>(KindTag, kind), new KeyValuePair<string, object?>(ActionTag, allowed ? "allow" : "deny"));
        }
    }

    internal static void Reject(string errorType)
    {
        if (Rejected.Enabled)
        {
            Rejected.Add(1, new KeyValuePair<string, object?>(ErrorTypeTag, errorType));
        }
    }
}

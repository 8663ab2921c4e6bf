using System.Diagnostics.Metrics;

namespace Egress.Proxy;

/// <summary>
/// The proxy's instruments on one <c>Egress.Proxy</c> meter: created through the container's
/// <see cref="IMeterFactory"/> when dependency injection is present (the factory owns the meter), else on a meter
/// this instance owns. <see cref="ProxyMetrics"/> holds the names and the process default instance.
/// </summary>
public sealed class ProxyInstruments : IDisposable
{
    private static readonly KeyValuePair<string, object?> Transmit = new(ProxyMetrics.DirectionTag, "transmit");
    private static readonly KeyValuePair<string, object?> Receive = new(ProxyMetrics.DirectionTag, "receive");

    private readonly bool _ownsMeter;

    /// <summary>Creates the instruments, on a meter from <paramref name="meterFactory"/> when given.</summary>
    public ProxyInstruments(IMeterFactory? meterFactory = null)
    {
        var options = new MeterOptions(ProxyMetrics.MeterName) { Version = typeof(ProxyInstruments).Assembly.GetName().Version?.ToString() };
        Meter = meterFactory?.Create(options) ?? new Meter(options);
        _ownsMeter = meterFactory is null;
        ActiveConnections = Meter.CreateUpDownCounter<long>("egress.proxy.connections.active", "{connection}", "Client connections currently open.");
        ActiveTunnels = Meter.CreateUpDownCounter<long>("egress.proxy.tunnels.active", "{tunnel}", "CONNECT tunnels and upgraded connections currently open.");
        Transferred = Meter.CreateCounter<long>("egress.proxy.transferred", "By", "Bytes relayed between clients and destinations.");
        Requests = Meter.CreateCounter<long>("egress.proxy.requests", "{request}", "CONNECT and plain-HTTP requests decided.");
        Rejected = Meter.CreateCounter<long>("egress.proxy.rejected", "{connection}", "Requests refused before a decision (limits, timeouts, malformed input).");
    }

    /// <summary>The meter holding the instruments.</summary>
    public Meter Meter { get; }

    internal UpDownCounter<long> ActiveConnections { get; }

    internal UpDownCounter<long> ActiveTunnels { get; }

    internal Counter<long> Transferred { get; }

    internal Counter<long> Requests { get; }

    internal Counter<long> Rejected { get; }

    /// <summary>Disposes the meter when this instance created it.</summary>
    public void Dispose()
    {
        if (_ownsMeter)
        {
            Meter.Dispose();
        }
    }

    internal void AddTransmitted(int bytes)
    {
        if (Transferred.Enabled)
        {
            Transferred.Add(bytes, Transmit);
        }
    }

    internal void AddReceived(int bytes)
    {
        if (Transferred.Enabled)
        {
            Transferred.Add(bytes, Receive);
        }
    }

    internal void Request(string kind, bool allowed)
    {
        if (Requests.Enabled)
        {
            Requests.Add(1, new KeyValuePair<string, object?>(ProxyMetrics.KindTag, kind), new KeyValuePair<string, object?>(ProxyMetrics.ActionTag, allowed ? "allow" : "deny"));
        }
    }

    internal void Reject(string errorType)
    {
        if (Rejected.Enabled)
        {
            Rejected.Add(1, new KeyValuePair<string, object?>(ProxyMetrics.ErrorTypeTag, errorType));
        }
    }
}

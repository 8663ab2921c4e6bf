using System.Diagnostics.Metrics;
using Egress.Policy.Telemetry;

namespace Egress.Telemetry.Prometheus;

/// <summary>
/// Collects every instrument of every meter whose name starts with <see cref="EgressMetricNames.MeterPrefix"/>
/// (the core's <c>Egress.Policy</c>, the proxy's <c>Egress.Proxy</c>, …) through a <see cref="MeterListener"/>, and
/// writes them in the Prometheus text exposition format. Measurement callbacks never throw.
/// </summary>
public sealed class MetricsCollector : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Lock _instrumentsGate = new();
    private readonly List<InstrumentAggregator> _instruments = [];
    private readonly Lock _collectGate = new();
    private readonly string _prefix;
    private readonly Func<Instrument, bool>? _include;

    /// <summary>Starts listening.</summary>
    /// <param name="meterPrefix">Meters whose name starts with this are collected.</param>
    public MetricsCollector(string meterPrefix = EgressMetricNames.MeterPrefix)
        : this(meterPrefix, null)
    {
    }

    /// <summary>Starts listening to the instruments <paramref name="include"/> accepts (tests isolate their own meters).</summary>
    internal MetricsCollector(string meterPrefix, Func<Instrument, bool>? include)
    {
        _prefix = meterPrefix;
        _include = include;
        _listener.InstrumentPublished = OnInstrumentPublished;
        _listener.MeasurementsCompleted = OnMeasurementsCompleted;
        _listener.SetMeasurementEventCallback<byte>(static (i, v, t, s) => Record(s, v, t));
        _listener.SetMeasurementEventCallback<short>(static (i, v, t, s) => Record(s, v, t));
        _listener.SetMeasurementEventCallback<int>(static (i, v, t, s) => Record(s, v, t));
        _listener.SetMeasurementEventCallback<long>(static (i, v, t, s) => Record(s, v, t));
        _listener.SetMeasurementEventCallback<float>(static (i, v, t, s) => Record(s, v, t));
        _listener.SetMeasurementEventCallback<double>(static (i, v, t, s) => Record(s, v, t));
        _listener.SetMeasurementEventCallback<decimal>(static (i, v, t, s) => Record(s, (double)v, t));
        _listener.Start();
    }

    /// <summary>Polls observable instruments and writes all families in the text format (version 0.0.4).</summary>
    public void WriteTo(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        List<InstrumentAggregator> instruments;
        lock (_instrumentsGate)
        {
            instruments = [.. _instruments];
        }

        lock (_collectGate)
        {
            foreach (var instrument in instruments)
            {
                instrument.ResetIfObservable();
            }

            try
            {
                _listener.RecordObservableInstruments();
            }
            catch (Exception)
            {
                // An observable callback failed; report what was observed.
            }

            PrometheusTextWriter.Write(writer, instruments);
        }
    }

    /// <summary>The exposition as a string.</summary>
    public string Collect()
    {
        using var writer = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        WriteTo(writer);
        return writer.ToString();
    }

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    private static void Record(object? state, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        try
        {
            ((InstrumentAggregator)state!).Record(value, tags);
        }
        catch (Exception)
        {
            // Telemetry never throws into the request path.
        }
    }

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (!instrument.Meter.Name.StartsWith(_prefix, StringComparison.Ordinal) || (_include is not null && !_include(instrument)))
        {
            return;
        }

        var aggregator = new InstrumentAggregator(instrument);
        lock (_instrumentsGate)
        {
            _instruments.Add(aggregator);
        }

        listener.EnableMeasurementEvents(instrument, aggregator);
    }

    private void OnMeasurementsCompleted(Instrument instrument, object? state)
    {
        lock (_instrumentsGate)
        {
            _instruments.Remove((InstrumentAggregator)state!);
        }
    }
}

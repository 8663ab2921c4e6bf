using System.Diagnostics.Metrics;

namespace Egress.Telemetry.Prometheus;

/// <summary>Aggregates the measurements of one instrument per label set: sum, last value or explicit-bucket histogram.</summary>
internal sealed class InstrumentAggregator
{
    /// <summary>Series kept per instrument; later label sets go to one overflow series.</summary>
    public const int MaxSeries = 2000;

    internal static readonly double[] DefaultBuckets = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    private static readonly SeriesKey OverflowKey = new(["otel_metric_overflow"], ["true"]);

    private readonly Lock _gate = new();
    private readonly Dictionary<SeriesKey, MetricSeries> _series = new(SeriesKeyComparer.Instance);
    private readonly Dictionary<SeriesKey, MetricSeries>.AlternateLookup<TagSpan> _lookup;
    private readonly Aggregation _aggregation;

    // The series used last, matched by reference: tag names are constants and capped tag values are the
    // admitted instances, so a repeated label set is found without hashing strings.
    private readonly MetricSeries?[] _recent = new MetricSeries?[8];
    private int _recentNext;

    public InstrumentAggregator(Instrument instrument)
    {
        Instrument = instrument;
        Kind = PrometheusNaming.KindOf(instrument);
        Name = PrometheusNaming.MetricName(instrument);
        _lookup = _series.GetAlternateLookup<TagSpan>();
        _aggregation = Kind == PrometheusMetricKind.Histogram ? Aggregation.Histogram
            : !instrument.IsObservable && IsSum(instrument) ? Aggregation.Sum
            : Aggregation.LastValue;
        Bounds = Kind == PrometheusMetricKind.Histogram ? HistogramBounds(instrument) : [];
    }

    private enum Aggregation
    {
        Sum,
        LastValue,
        Histogram,
    }

    public Instrument Instrument { get; }

    public PrometheusMetricKind Kind { get; }

    /// <summary>The Prometheus family name.</summary>
    public string Name { get; }

    /// <summary>Upper bounds of the histogram buckets (without +Inf).</summary>
    public double[] Bounds { get; }

    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        lock (_gate)
        {
            var series = Find(tags);
            switch (_aggregation)
            {
                case Aggregation.Sum:
                    series.Value += value;
                    break;
                case Aggregation.LastValue:
                    series.Value = value;
                    break;
                default:
                    int bucket = Array.BinarySearch(Bounds, value);
                    bucket = bucket >= 0 ? bucket : ~bucket;
                    series.Buckets[bucket]++;
                    series.Sum += value;
                    series.Count++;
                    break;
            }
        }
    }

    /// <summary>Forgets observed series before an observable instrument is polled, so vanished label sets disappear.</summary>
    public void ResetIfObservable()
    {
        if (Instrument.IsObservable)
        {
            lock (_gate)
            {
                _series.Clear();
                Array.Clear(_recent);
            }
        }
    }

    /// <summary>A copy of the series for writing.</summary>
    public List<(SeriesKey Key, double Value, long[] Buckets, double Sum, long Count)> Snapshot()
    {
        lock (_gate)
        {
            return [.. _series.Values.Select(s => (s.Key, s.Value, (long[])s.Buckets.Clone(), s.Sum, s.Count))];
        }
    }

    private static bool IsSum(Instrument instrument)
    {
        var type = instrument.GetType();
        return type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(Counter<>) || type.GetGenericTypeDefinition() == typeof(UpDownCounter<>));
    }

    private static double[] HistogramBounds(Instrument instrument)
    {
        var bounds = instrument switch
        {
            Histogram<double> h => h.Advice?.HistogramBucketBoundaries?.ToArray(),
            Histogram<float> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
            Histogram<long> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
            Histogram<int> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
            _ => null,
        };
        if (bounds is null || bounds.Length == 0)
        {
            return DefaultBuckets;
        }

        Array.Sort(bounds);
        return [.. bounds.Where(double.IsFinite).Distinct()];
    }

    private static bool SameReferences(SeriesKey key, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (key.Names.Length != tags.Length)
        {
            return false;
        }

        for (int i = 0; i < tags.Length; i++)
        {
            if (!ReferenceEquals(key.Names[i], tags[i].Key) || !ReferenceEquals(key.Values[i], tags[i].Value))
            {
                return false;
            }
        }

        return true;
    }

    private MetricSeries Find(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var recent in _recent)
        {
            if (recent is not null && SameReferences(recent.Key, tags))
            {
                return recent;
            }
        }

        var series = Lookup(tags);
        _recent[_recentNext] = series;
        _recentNext = (_recentNext + 1) % _recent.Length;
        return series;
    }

    private MetricSeries Lookup(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (SeriesKey.IsCanonical(tags))
        {
            if (_lookup.TryGetValue(new TagSpan(tags), out var found))
            {
                return found;
            }
        }

        var key = SeriesKey.From(tags);
        if (_series.TryGetValue(key, out var existing))
        {
            return existing;
        }

        if (_series.Count >= MaxSeries)
        {
            key = OverflowKey;
            if (_series.TryGetValue(key, out var overflow))
            {
                return overflow;
            }
        }

        var series = new MetricSeries(key, Bounds.Length);
        _series.Add(key, series);
        return series;
    }
}

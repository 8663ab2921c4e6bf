namespace Egress.Telemetry.Prometheus;

/// <summary>The aggregated state of one series. Guarded by its instrument's lock.</summary>
internal sealed class MetricSeries(SeriesKey key, int bucketCount)
{
    public SeriesKey Key { get; } = key;

    /// <summary>Sum (counters, up-down counters) or last value (gauges, observable instruments).</summary>
    public double Value { get; set; }

    /// <summary>Per-bucket (non-cumulative) counts of a histogram; the last one is +Inf.</summary>
    public long[] Buckets { get; } = bucketCount == 0 ? [] : new long[bucketCount + 1];

    public double Sum { get; set; }

    public long Count { get; set; }
}

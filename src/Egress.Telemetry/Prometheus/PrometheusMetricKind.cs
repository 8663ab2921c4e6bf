namespace Egress.Telemetry.Prometheus;

/// <summary>The Prometheus metric type an instrument is exposed as.</summary>
public enum PrometheusMetricKind
{
    /// <summary>Monotonic sum (<c>Counter</c>, <c>ObservableCounter</c>), exposed with <c>_total</c>.</summary>
    Counter,
    /// <summary>Current value (<c>UpDownCounter</c>, <c>Gauge</c>, observable gauges).</summary>
    Gauge,
    /// <summary>Explicit-bucket histogram (<c>Histogram</c>).</summary>
    Histogram,
}

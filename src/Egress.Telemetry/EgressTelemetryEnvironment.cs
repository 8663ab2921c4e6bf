namespace Egress.Telemetry;

/// <summary>
/// Environment variables read by the exporters beyond the core's <c>EGRESS_*</c> set: the Prometheus bind
/// address and the standard OpenTelemetry SDK variables that apply to metric export.
/// </summary>
public static class EgressTelemetryEnvironment
{
    /// <summary>Address the Prometheus endpoint binds to (default <c>127.0.0.1</c>).</summary>
    public const string PromHost = "EGRESS_PROM_HOST";
    /// <summary>Directory where <c>--verify</c> writes CI metrics in the textfile-collector format.</summary>
    public const string PromTextfileDir = "EGRESS_PROM_TEXTFILE_DIR";
    /// <summary>Disables the OpenTelemetry SDK when true.</summary>
    public const string OtelSdkDisabled = "OTEL_SDK_DISABLED";
    /// <summary>Service name resource attribute.</summary>
    public const string OtelServiceName = "OTEL_SERVICE_NAME";
    /// <summary>Extra resource attributes, <c>key=value,key2=value2</c>.</summary>
    public const string OtelResourceAttributes = "OTEL_RESOURCE_ATTRIBUTES";
    /// <summary>Base OTLP endpoint (signal path appended for HTTP).</summary>
    public const string OtlpEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";
    /// <summary>Metrics OTLP endpoint, used as is.</summary>
    public const string OtlpMetricsEndpoint = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
    /// <summary>OTLP protocol: <c>grpc</c> or <c>http/protobuf</c>.</summary>
    public const string OtlpProtocol = "OTEL_EXPORTER_OTLP_PROTOCOL";
    /// <summary>Metrics OTLP protocol.</summary>
    public const string OtlpMetricsProtocol = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL";
    /// <summary>OTLP request headers, <c>key=value,…</c>.</summary>
    public const string OtlpHeaders = "OTEL_EXPORTER_OTLP_HEADERS";
    /// <summary>Metrics OTLP request headers.</summary>
    public const string OtlpMetricsHeaders = "OTEL_EXPORTER_OTLP_METRICS_HEADERS";
    /// <summary>OTLP request timeout in milliseconds.</summary>
    public const string OtlpTimeout = "OTEL_EXPORTER_OTLP_TIMEOUT";
    /// <summary>Metrics OTLP request timeout in milliseconds.</summary>
    public const string OtlpMetricsTimeout = "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT";
    /// <summary>Aggregation temporality: <c>cumulative</c> or <c>delta</c>.</summary>
    public const string OtlpMetricsTemporality = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
    /// <summary>Interval between exports in milliseconds (default 60000).</summary>
    public const string MetricExportInterval = "OTEL_METRIC_EXPORT_INTERVAL";
    /// <summary>Export timeout in milliseconds (default 30000).</summary>
    public const string MetricExportTimeout = "OTEL_METRIC_EXPORT_TIMEOUT";
}

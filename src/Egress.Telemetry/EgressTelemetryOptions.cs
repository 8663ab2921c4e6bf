using System.Collections.Immutable;
using System.Net;
using Egress.Policy.Configuration;

namespace Egress.Telemetry;

/// <summary>
/// What <see cref="EgressTelemetry.Start(EgressTelemetryOptions, TextWriter?)"/> starts. Build it from the
/// environment with <see cref="From"/>, or in code.
/// </summary>
public sealed record EgressTelemetryOptions
{
    /// <summary>Default <c>service.name</c> resource attribute.</summary>
    public const string DefaultServiceName = "egress-policy";

    /// <summary>Serve <c>/metrics</c>.</summary>
    public bool PrometheusEnabled { get; init; }

    /// <summary>Address the endpoint binds to; loopback unless configured otherwise.</summary>
    public IPAddress PrometheusAddress { get; init; } = IPAddress.Loopback;

    /// <summary>Port of the endpoint; 0 picks a free port.</summary>
    public int PrometheusPort { get; init; } = EgressDefaults.PromPort;

    /// <summary>Export over OTLP.</summary>
    public bool OtlpEnabled { get; init; }

    /// <summary>OTLP transport.</summary>
    public OtlpExporterProtocol OtlpProtocol { get; init; } = OtlpExporterProtocol.HttpProtobuf;

    /// <summary>Full OTLP target: for HTTP the URL including <c>/v1/metrics</c>, for gRPC the server URL.</summary>
    public Uri OtlpEndpoint { get; init; } = new(EgressDefaults.OtelEndpoint + "/v1/metrics");

    /// <summary>Extra request headers (<c>key=value,…</c>), or <see langword="null"/>.</summary>
    public string? OtlpHeaders { get; init; }

    /// <summary>Timeout of one export request.</summary>
    public TimeSpan OtlpTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Interval between exports.</summary>
    public TimeSpan ExportInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Export deltas instead of cumulative sums.</summary>
    public bool DeltaTemporality { get; init; }

    /// <summary>The <c>service.name</c> resource attribute.</summary>
    public string ServiceName { get; init; } = DefaultServiceName;

    /// <summary>Further resource attributes (from <c>OTEL_RESOURCE_ATTRIBUTES</c>).</summary>
    public ImmutableArray<KeyValuePair<string, string>> ResourceAttributes { get; init; } = [];

    /// <summary>Meters whose name starts with this are exported.</summary>
    public string MeterPrefix { get; init; } = Policy.Telemetry.EgressMetricNames.MeterPrefix;

    /// <summary>Further restricts the instruments the Prometheus endpoint collects (tests isolate their own meters).</summary>
    internal Func<System.Diagnostics.Metrics.Instrument, bool>? InstrumentFilter { get; init; }

    /// <summary>Values that were not understood; the safe default was kept.</summary>
    public ImmutableArray<string> Warnings { get; init; } = [];

    /// <summary>Builds the options from the policy's configuration and the environment.</summary>
    /// <param name="options">The policy configuration (<c>EGRESS_PROM_*</c>, <c>EGRESS_OTEL_*</c>).</param>
    /// <param name="environment">Variable lookup for <c>EGRESS_PROM_HOST</c> and the standard <c>OTEL_*</c> variables; the process environment when null.</param>
    public static EgressTelemetryOptions From(EgressOptions options, Func<string, string?>? environment = null) =>
        EgressTelemetryOptionsReader.Read(options, environment ?? Environment.GetEnvironmentVariable);
}

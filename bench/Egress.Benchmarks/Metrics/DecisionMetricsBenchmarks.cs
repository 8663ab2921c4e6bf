using BenchmarkDotNet.Attributes;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Policy.Telemetry;
using Egress.Telemetry;
using Egress.Telemetry.Prometheus;

namespace Egress.Benchmarks.Metrics;

/// <summary>
/// What metrics add to one recorded decision (<c>EgressPolicy.Evaluate</c>): metrics off (baseline), the
/// instruments present with no listener, our Prometheus collector listening, and the OpenTelemetry SDK
/// listening (OTLP exporter with a one-hour interval, so only the recording path is measured).
/// </summary>
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Disposed in [GlobalCleanup], as BenchmarkDotNet expects.")]
public class DecisionMetricsBenchmarks
{
    private EgressPolicy _policy = null!;
    private MetricsCollector? _collector;
    private EgressTelemetry? _otel;

    /// <summary>An allowed or a denied destination (denials also look up the capped host tag).</summary>
    [Params("allow", "deny")]
    public string Case { get; set; } = "allow";

    private string Destination => Case == "allow" ? "https://api.example.com/v1/chat" : "https://exfil.example.net/upload";

    [GlobalSetup(Target = nameof(MetricsDisabled))]
    public void SetupDisabled() => _policy = CreatePolicy(metrics: null);

    [GlobalSetup(Target = nameof(EnabledNoListener))]
    public void SetupNoListener() => _policy = CreatePolicy(new EgressMetrics());

    [GlobalSetup(Target = nameof(PrometheusCollector))]
    public void SetupCollector()
    {
        _policy = CreatePolicy(new EgressMetrics());
        _collector = new MetricsCollector();
    }

    [GlobalSetup(Target = nameof(OpenTelemetrySdk))]
    public void SetupOpenTelemetry()
    {
        _policy = CreatePolicy(new EgressMetrics());
        _otel = EgressTelemetry.Start(
            new EgressTelemetryOptions { OtlpEnabled = true, OtlpEndpoint = new Uri("http://127.0.0.1:9/v1/metrics"), ExportInterval = TimeSpan.FromHours(1) },
            TextWriter.Null);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _collector?.Dispose();
        _otel?.Dispose();
        _policy.Dispose();
    }

    [Benchmark(Baseline = true)]
    public bool MetricsDisabled() => _policy.Evaluate(Destination, "bench").Allowed;

    [Benchmark]
    public bool EnabledNoListener() => _policy.Evaluate(Destination, "bench").Allowed;

    [Benchmark]
    public bool PrometheusCollector() => _policy.Evaluate(Destination, "bench").Allowed;

    [Benchmark]
    public bool OpenTelemetrySdk() => _policy.Evaluate(Destination, "bench").Allowed;

    private static EgressPolicy CreatePolicy(EgressMetrics? metrics)
    {
        var policy = EgressPolicy.Create(new EgressOptions { Allowlist = ["example.com", "openai"], LogLevel = 0, RecentEvents = 100 }, TextWriter.Null);
        policy.Events.Metrics = metrics;
        return policy;
    }
}

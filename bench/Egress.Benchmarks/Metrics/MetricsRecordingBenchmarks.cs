using BenchmarkDotNet.Attributes;
using Egress.Policy;
using Egress.Policy.Telemetry;
using Egress.Telemetry.Prometheus;

namespace Egress.Benchmarks.Metrics;

/// <summary>
/// The metrics calls a recorded decision makes (start timestamp, duration, counters), isolated from deciding
/// and recording, so the added cost is measured directly rather than as a difference of two larger numbers.
/// </summary>
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Disposed in [GlobalCleanup], as BenchmarkDotNet expects.")]
public class MetricsRecordingBenchmarks
{
    private static readonly EgressDecision Allowed = new(true, "allowed by domain token", "example.com", "api.example.com", 443, EgressOutcome.Allowed, true);
    private static readonly EgressDecision Denied = new(false, "not in allowlist", null, "exfil.example.net", 443, EgressOutcome.NotInAllowlist, true);

    private EgressMetrics _metrics = null!;
    private MetricsCollector? _collector;

    /// <summary>An allowed or a denied decision.</summary>
    [Params("allow", "deny")]
    public string Case { get; set; } = "allow";

    [GlobalSetup(Target = nameof(NoListener))]
    public void SetupNoListener() => _metrics = new EgressMetrics();

    [GlobalSetup(Target = nameof(WithCollector))]
    public void SetupCollector()
    {
        _metrics = new EgressMetrics();
        _collector = new MetricsCollector();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _collector?.Dispose();
        _metrics?.Dispose();
    }

    [Benchmark]
    public void NoListener() => Record();

    [Benchmark]
    public void WithCollector() => Record();

    private void Record()
    {
        var decision = Case == "allow" ? Allowed : Denied;
        long started = _metrics.StartTimestamp();
        _metrics.RecordDuration(started, decision, "bench");
        _metrics.RecordDecision(decision, "bench");
    }
}

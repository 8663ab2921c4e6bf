using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using Egress.Policy.Verification;
using Egress.Telemetry.Ci;

namespace Egress.Telemetry.Tests;

/// <summary>
/// Every sample name this project exposes, produced for real: core decisions through the collector, a proxy
/// meter with the instruments docs/metrics.md names for <c>Egress.Proxy</c>, and the CI textfiles.
/// </summary>
internal static partial class KnownMetricNames
{
    private static readonly string Exposition = Build();

    public static IReadOnlySet<string> All { get; } = Exposition.Split('\n')
        .Where(l => l.Length > 0 && l[0] != '#')
        .Select(l => l[..l.IndexOfAny(['{', ' '])])
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>Label names that appear on those samples.</summary>
    public static IReadOnlySet<string> Labels { get; } = LabelName().Matches(Exposition).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

    /// <summary>Family names (without histogram sample suffixes).</summary>
    public static IReadOnlySet<string> Families { get; } = All.Select(n => HistogramSuffix().Replace(n, string.Empty)).ToHashSet(StringComparer.Ordinal);

    public static IEnumerable<string> Referenced(string promql) => MetricName().Matches(promql).Select(m => m.Value);

    [GeneratedRegex(@"\begress_[a-z0-9_]+\b")]
    private static partial Regex MetricName();

    [GeneratedRegex("[{,]([a-z_]+)=\"")]
    private static partial Regex LabelName();

    [GeneratedRegex("_(bucket|sum|count)$")]
    private static partial Regex HistogramSuffix();

    private static string Build()
    {
        var (enforcing, metricsA) = TestPolicies.Create("example.com");
        var (audit, metricsB) = TestPolicies.Create("example.com", enforce: false);
        using var proxyMeter = new Meter("Egress.Proxy");
        // The same names, units and tags as src/Egress.Proxy/ProxyMetrics.cs (checked end to end by ProxyMetricsEndpointTests).
        var tunnels = proxyMeter.CreateUpDownCounter<long>("egress.proxy.tunnels.active", "{tunnel}");
        var bytes = proxyMeter.CreateCounter<long>("egress.proxy.transferred", "By");
        using var collector = TestPolicies.CollectorFor(metricsA.Meter, metricsB.Meter, proxyMeter);
        enforcing.Evaluate("https://example.com/", "check");
        enforcing.Evaluate("https://evil.test/", "check");
        audit.Evaluate("https://evil.test/", "check");
        tunnels.Add(1);
        bytes.Add(1, new KeyValuePair<string, object?>("network.io.direction", "transmit"));

        return collector.Collect()
            + CiMetricsTextFile.RenderVerification(new VerificationResult(), new CiJobLabels("r", "j"), DateTimeOffset.UnixEpoch)
            + CiMetricsTextFile.RenderTooling(1, 0, new CiJobLabels("r", "j"), DateTimeOffset.UnixEpoch);
    }
}

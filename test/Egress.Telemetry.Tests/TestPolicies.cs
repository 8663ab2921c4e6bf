using System.Diagnostics.Metrics;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Policy.Telemetry;
using Egress.Telemetry.Prometheus;

namespace Egress.Telemetry.Tests;

/// <summary>Policies with their own <see cref="EgressMetrics"/>, so parallel tests never see each other's counts.</summary>
internal static class TestPolicies
{
    public static (EgressPolicy Policy, EgressMetrics Metrics) Create(string allowlist, bool enforce = true, int maxHostTags = EgressMetrics.DefaultMaxHostTags)
    {
        var options = new EgressOptions { Allowlist = [.. allowlist.Split(',', StringSplitOptions.RemoveEmptyEntries)], Enforce = enforce, LogLevel = 0 };
        var policy = EgressPolicy.Create(options, TextWriter.Null);
        var metrics = new EgressMetrics(maxHostTags: maxHostTags);
        policy.Events.Metrics = metrics;
        return (policy, metrics);
    }

    /// <summary>A collector that sees only the given meters.</summary>
    public static MetricsCollector CollectorFor(params Meter[] meters) =>
        new(EgressMetricNames.MeterPrefix, i => meters.Contains(i.Meter));
}

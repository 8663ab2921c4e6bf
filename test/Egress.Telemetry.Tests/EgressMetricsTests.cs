using System.Diagnostics.Metrics;
using Egress.Policy.Telemetry;

namespace Egress.Telemetry.Tests;

public class EgressMetricsTests
{
    [Fact]
    public void Evaluate_AllowedDestination_CountsAllowedWithTokenAndSource()
    {
        var (policy, metrics) = TestPolicies.Create("example.com");
        using var collector = TestPolicies.CollectorFor(metrics.Meter);
        policy.Evaluate("https://api.example.com/x", "check");
        policy.Evaluate("https://www.example.com/y", "check");

        var text = collector.Collect();
        Assert.Equal(2, Exposition.Value(text, "egress_allowed_total", "{egress_source=\"check\",egress_token=\"example.com\"}"));
        Assert.Empty(Exposition.Samples(text, "egress_blocked_total"));
    }

    [Fact]
    public void Evaluate_DeniedDestination_CountsBlockedWithHostAndOutcome()
    {
        var (policy, metrics) = TestPolicies.Create("example.com");
        using var collector = TestPolicies.CollectorFor(metrics.Meter);
        policy.Evaluate("https://evil.test/steal", "http");

        var text = collector.Collect();
        Assert.Equal(1, Exposition.Value(text, "egress_blocked_total", "{egress_outcome=\"not_in_allowlist\",egress_source=\"http\",server_address=\"evil.test\"}"));
        Assert.Empty(Exposition.Samples(text, "egress_allowed_total"));
    }

    [Fact]
    public void Evaluate_AuditMode_CountsAllowedAndWouldBlock()
    {
        var (policy, metrics) = TestPolicies.Create("example.com", enforce: false);
        using var collector = TestPolicies.CollectorFor(metrics.Meter);
        policy.Evaluate("https://evil.test/", "proxy");

        var text = collector.Collect();
        Assert.Equal(1, Exposition.Value(text, "egress_allowed_total", "{egress_source=\"proxy\",egress_token=\"none\"}"));
        Assert.Equal(1, Exposition.Value(text, "egress_would_block_total", "{egress_outcome=\"not_in_allowlist\",egress_source=\"proxy\",server_address=\"evil.test\"}"));
        Assert.Empty(Exposition.Samples(text, "egress_blocked_total"));
    }

    [Fact]
    public void Evaluate_InvalidDestination_TagsHostAsInvalidNeverTheRawInput()
    {
        var (policy, metrics) = TestPolicies.Create("example.com");
        using var collector = TestPolicies.CollectorFor(metrics.Meter);
        policy.Evaluate("http://user:secret@exa mple.com/?token=abc", "http");

        var text = collector.Collect();
        Assert.Equal(1, Exposition.Value(text, "egress_blocked_total", "{egress_outcome=\"invalid_destination\",egress_source=\"http\",server_address=\"invalid\"}"));
        Assert.DoesNotContain("secret", text, StringComparison.Ordinal);
    }

    [Fact]
    public void DeniedHosts_BeyondTheCap_AreCountedAsOther()
    {
        var (policy, metrics) = TestPolicies.Create("example.com", maxHostTags: 3);
        using var collector = TestPolicies.CollectorFor(metrics.Meter);
        for (int i = 0; i < 10; i++)
        {
            policy.Evaluate($"https://h{i}.test/", "check");
        }

        var samples = Exposition.Samples(collector.Collect(), "egress_blocked_total");
        Assert.Equal(4, samples.Length);
        Assert.Contains(samples, s => s.Contains("server_address=\"other\"} 7", StringComparison.Ordinal));
        Assert.Contains(samples, s => s.Contains("server_address=\"h0.test\"} 1", StringComparison.Ordinal));
    }

    [Fact]
    public void Sources_BeyondTheCap_AreCountedAsOther()
    {
        var (policy, metrics) = TestPolicies.Create("example.com");
        using var collector = TestPolicies.CollectorFor(metrics.Meter);
        for (int i = 0; i < EgressMetrics.MaxSourceTags + 5; i++)
        {
            policy.Evaluate("https://example.com/", "source" + i);
        }

        var text = collector.Collect();
        Assert.Equal(EgressMetrics.MaxSourceTags + 1, Exposition.Samples(text, "egress_allowed_total").Length);
        Assert.Equal(5, Exposition.Value(text, "egress_allowed_total", "{egress_source=\"other\",egress_token=\"example.com\"}"));
    }

    [Fact]
    public void Evaluate_WithListener_RecordsDecisionDuration()
    {
        var (policy, metrics) = TestPolicies.Create("example.com");
        using var collector = TestPolicies.CollectorFor(metrics.Meter);
        policy.Evaluate("https://example.com/", "check");
        policy.Evaluate("https://evil.test/", "check");

        var text = collector.Collect();
        Assert.Equal(1, Exposition.Value(text, "egress_decision_duration_seconds_count", "{egress_action=\"allow\",egress_source=\"check\"}"));
        Assert.Equal(1, Exposition.Value(text, "egress_decision_duration_seconds_bucket", "{egress_action=\"deny\",egress_source=\"check\",le=\"+Inf\"}"));
        Assert.True(Exposition.Value(text, "egress_decision_duration_seconds_sum", "{egress_action=\"deny\",egress_source=\"check\"}") > 0);
    }

    [Fact]
    public void RecorderWithoutMetrics_StillCountsEvents()
    {
        var (policy, metrics) = TestPolicies.Create("example.com");
        using var collector = TestPolicies.CollectorFor(metrics.Meter);
        policy.Events.Metrics = null;
        policy.Evaluate("https://evil.test/", "check");

        Assert.Equal(1, policy.Events.BlockedTotal);
        Assert.Empty(Exposition.Samples(collector.Collect(), "egress_blocked_total"));
    }

    [Fact]
    public void Policies_UseTheSharedMetricsByDefault()
    {
        var policy = Egress.Policy.EgressPolicy.Create(new Egress.Policy.Configuration.EgressOptions { LogLevel = 0 }, TextWriter.Null);
        Assert.Same(EgressMetrics.Shared, policy.Events.Metrics);
        Assert.Equal(EgressMetricNames.Meter, EgressMetrics.Shared.Meter.Name);
    }

    [Fact]
    public void MeterFactory_CreatesTheMeter()
    {
        using var factory = new TestMeterFactory();
        var metrics = new EgressMetrics(factory);
        Assert.Same(factory.Created.Single(), metrics.Meter);
        Assert.Equal(EgressMetricNames.Meter, metrics.Meter.Name);
    }

    private sealed class TestMeterFactory : IMeterFactory
    {
        public List<Meter> Created { get; } = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options.Name, options.Version, options.Tags, this);
            Created.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (var meter in Created)
            {
                meter.Dispose();
            }
        }
    }
}

using Egress.Telemetry.Prometheus;

namespace Egress.Telemetry.Tests;

public class PrometheusNamingTests
{
    [Theory]
    [InlineData("egress.allowed", "{decision}", PrometheusMetricKind.Counter, "egress_allowed_total")]
    [InlineData("egress.blocked", "{decision}", PrometheusMetricKind.Counter, "egress_blocked_total")]
    [InlineData("egress.would_block", "{decision}", PrometheusMetricKind.Counter, "egress_would_block_total")]
    [InlineData("egress.decision.duration", "s", PrometheusMetricKind.Histogram, "egress_decision_duration_seconds")]
    [InlineData("egress.proxy.active_tunnels", "{tunnel}", PrometheusMetricKind.Gauge, "egress_proxy_active_tunnels")]
    [InlineData("egress.proxy.bytes", "By", PrometheusMetricKind.Counter, "egress_proxy_bytes_total")]
    [InlineData("egress.proxy.transfer", "By", PrometheusMetricKind.Counter, "egress_proxy_transfer_bytes_total")]
    [InlineData("egress.proxy.throughput", "By/s", PrometheusMetricKind.Gauge, "egress_proxy_throughput_bytes_per_second")]
    [InlineData("egress.cache.hit", "1", PrometheusMetricKind.Gauge, "egress_cache_hit_ratio")]
    [InlineData("egress.hit_ratio", "1", PrometheusMetricKind.Gauge, "egress_hit_ratio")]
    [InlineData("egress.count", "1", PrometheusMetricKind.Counter, "egress_count_total")]
    [InlineData("egress.latency", "ms", PrometheusMetricKind.Histogram, "egress_latency_milliseconds")]
    [InlineData("requests_total", null, PrometheusMetricKind.Counter, "requests_total")]
    [InlineData("9lives..x-y", "", PrometheusMetricKind.Gauge, "_9lives_x_y")]
    public void MetricName_FollowsTheOpenTelemetryPrometheusRules(string name, string? unit, PrometheusMetricKind kind, string expected) =>
        Assert.Equal(expected, PrometheusNaming.MetricName(name, unit, kind));

    [Theory]
    [InlineData("server.address", "server_address")]
    [InlineData("egress.source", "egress_source")]
    [InlineData("http.request.method", "http_request_method")]
    [InlineData("a:b", "a_b")]
    public void LabelName_ReplacesInvalidCharacters(string tag, string expected) =>
        Assert.Equal(expected, PrometheusNaming.LabelName(tag));
}

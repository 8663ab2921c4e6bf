namespace Egress.Telemetry.Tests;

/// <summary>Our endpoint scraped by a real Prometheus server, read back through its HTTP API.</summary>
public class PrometheusIntegrationTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task RealPrometheus_ScrapesAllowedAndBlockedCounters()
    {
        var (policy, metrics) = TestPolicies.Create("example.com");
        using var telemetry = EgressTelemetry.Start(
            new EgressTelemetryOptions { PrometheusEnabled = true, PrometheusPort = 0, InstrumentFilter = i => i.Meter == metrics.Meter },
            TextWriter.Null);
        policy.Evaluate("https://api.example.com/", "http");
        policy.Evaluate("https://www.example.com/", "http");
        policy.Evaluate("https://exfil.test/", "proxy");

        using var prometheus = new PrometheusServer(telemetry.PrometheusEndpoint!, RepositoryRoot.File("deploy", "prometheus", "egress-alerts.yml"));
        bool scraped = await prometheus.WaitUntilAsync(async () => (await prometheus.QueryAsync("egress_blocked_total")).Count > 0, Limit);
        Assert.True(scraped, "Prometheus never showed egress_blocked_total:\n" + prometheus.Output);

        var allowed = await prometheus.QueryAsync("egress_allowed_total");
        var (labels, value) = Assert.Single(allowed);
        Assert.Equal(2, value);
        Assert.Equal("http", labels["egress_source"]);
        Assert.Equal("example.com", labels["egress_token"]);
        Assert.Equal("egress-policy", labels["job"]);

        var blocked = Assert.Single(await prometheus.QueryAsync("egress_blocked_total"));
        Assert.Equal(1, blocked.Value);
        Assert.Equal("exfil.test", blocked.Labels["server_address"]);
        Assert.Equal("not_in_allowlist", blocked.Labels["egress_outcome"]);

        // More traffic shows up in a later scrape.
        policy.Evaluate("https://exfil.test/again", "proxy");
        bool updated = await prometheus.WaitUntilAsync(async () => (await prometheus.QueryAsync("egress_blocked_total")).SingleOrDefault().Value == 2, Limit);
        Assert.True(updated, "egress_blocked_total never reached 2:\n" + prometheus.Output);

        var count = await prometheus.QueryAsync("sum(egress_decision_duration_seconds_count)");
        Assert.Equal(4, Assert.Single(count).Value);

        // The alert rules load into the real server.
        using var rules = await prometheus.GetJsonAsync("/api/v1/rules");
        Assert.NotNull(rules);
        var loaded = rules!.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray()
            .SelectMany(g => g.GetProperty("rules").EnumerateArray()).Select(r => r.GetProperty("name").GetString()).ToList();
        Assert.Contains("EgressHighBlockedRate", loaded);
        Assert.Contains("EgressVerificationFailed", loaded);
    }
}

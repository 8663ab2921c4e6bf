using System.Diagnostics.Metrics;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Policy.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Egress.Telemetry.Tests;

public class DependencyInjectionTests
{
    [Fact]
    public async Task AddEgressTelemetry_UsesTheMeterFactory_AndAttachesThePolicy()
    {
        var policy = EgressPolicy.Create(new EgressOptions { Allowlist = ["example.com"], LogLevel = 0 }, TextWriter.Null);
        var services = new ServiceCollection();
        services.AddSingleton(policy);
        services.AddEgressTelemetry(new EgressTelemetryOptions());
        services.AddEgressTelemetry(new EgressTelemetryOptions { PrometheusEnabled = true });
        await using var provider = services.BuildServiceProvider();

        var metrics = provider.GetRequiredService<EgressMetrics>();
        Assert.Same(provider.GetRequiredService<IMeterFactory>(), metrics.Meter.Scope);
        var hosted = Assert.Single(provider.GetServices<IHostedService>());
        await hosted.StartAsync(CancellationToken.None);
        Assert.Same(metrics, policy.Events.Metrics);

        using var collector = TestPolicies.CollectorFor(metrics.Meter);
        policy.Evaluate("https://evil.test/", "di");
        Assert.Equal(1, Exposition.Value(collector.Collect(), "egress_blocked_total", "{egress_outcome=\"not_in_allowlist\",egress_source=\"di\",server_address=\"evil.test\"}"));
        await hosted.StopAsync(CancellationToken.None);
    }
}

public class AddEgressPolicyTests
{
    [Fact]
    public async Task AddEgressPolicy_BuildsThePolicyWithTheContainersMetricsAtConstruction()
    {
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddEgressPolicy(o => o.Configuration = new EgressOptions { Allowlist = ["example.com"], LogLevel = 0 });
        services.AddEgressTelemetry(new EgressTelemetryOptions());
        await using var provider = services.BuildServiceProvider();

        var policy = provider.GetRequiredService<EgressPolicy>();
        var metrics = provider.GetRequiredService<EgressMetrics>();

        Assert.Same(metrics, policy.Events.Metrics); // before any hosted service ran
        Assert.Same(provider.GetRequiredService<IMeterFactory>(), metrics.Meter.Scope);
        using var collector = TestPolicies.CollectorFor(metrics.Meter);
        policy.Evaluate("https://evil.test/", "di-policy");
        Assert.Equal(1, Exposition.Value(collector.Collect(), "egress_blocked_total", "{egress_outcome=\"not_in_allowlist\",egress_source=\"di-policy\",server_address=\"evil.test\"}"));
    }
}

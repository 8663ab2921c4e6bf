using Egress.Policy;
using Egress.Policy.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Egress.Telemetry.DependencyInjection;

/// <summary>Attaches the container's <see cref="EgressMetrics"/> to the policy and runs the exporters for the host's lifetime.</summary>
internal sealed class EgressTelemetryHostedService(IServiceProvider services, EgressMetrics metrics, EgressTelemetryOptionsFactory options) : IHostedService, IDisposable
{
    private EgressTelemetry? _telemetry;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var policy = services.GetService<EgressPolicy>() ?? EgressPolicy.Shared;
        policy.Events.Metrics = metrics;
        _telemetry = EgressTelemetry.Start(options.Create(services));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _telemetry, null)?.Dispose();
    }
}

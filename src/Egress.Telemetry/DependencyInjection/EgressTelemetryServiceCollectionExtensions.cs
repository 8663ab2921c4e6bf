using System.Diagnostics.Metrics;
using Egress.Policy.Configuration;
using Egress.Policy.Telemetry;
using Egress.Telemetry;
using Egress.Telemetry.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers egress-policy metrics and exporters in a service collection.</summary>
public static class EgressTelemetryServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="EgressMetrics"/> on a meter from the container's <see cref="IMeterFactory"/>, and a hosted
    /// service that points the policy (the container's <c>EgressPolicy</c>, else <c>EgressPolicy.Shared</c>) at those
    /// instruments and starts the exporters the environment asks for. Safe to call more than once.
    /// </summary>
    public static IServiceCollection AddEgressTelemetry(this IServiceCollection services) =>
        services.AddEgressTelemetry(_ => EgressTelemetryOptions.From(EgressOptionsReader.FromEnvironment()));

    /// <summary>As <see cref="AddEgressTelemetry(IServiceCollection)"/>, with the exporters configured in code.</summary>
    public static IServiceCollection AddEgressTelemetry(this IServiceCollection services, EgressTelemetryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return services.AddEgressTelemetry(_ => options);
    }

    /// <summary>As <see cref="AddEgressTelemetry(IServiceCollection)"/>, with the exporter options built from the container.</summary>
    public static IServiceCollection AddEgressTelemetry(this IServiceCollection services, Func<IServiceProvider, EgressTelemetryOptions> options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        services.AddMetrics();
        services.TryAddSingleton(sp => new EgressMetrics(sp.GetRequiredService<IMeterFactory>()));
        services.TryAddSingleton(new EgressTelemetryOptionsFactory(options));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, EgressTelemetryHostedService>());
        return services;
    }
}

using System.Diagnostics.Metrics;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Policy.DependencyInjection;
using Egress.Policy.Events;
using Egress.Policy.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the egress policy in a service collection.</summary>
public static class EgressPolicyServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="EgressPolicy"/> singleton, built from <see cref="EgressPolicyOptions"/> (the
    /// environment unless configured): its events go to the ring, log and journal, to an <see cref="EgressMetrics"/>
    /// on a meter from the container's <see cref="IMeterFactory"/> (when one is registered), and to every
    /// <see cref="EgressEventSink"/> registered in the container. Egress.Http and Egress.Telemetry take this policy.
    /// Safe to call more than once (configurations accumulate; the first registration of the policy wins).
    /// </summary>
    public static IServiceCollection AddEgressPolicy(this IServiceCollection services) => services.AddEgressPolicy(static _ => { });

    /// <summary>As <see cref="AddEgressPolicy(IServiceCollection)"/>, configured by <paramref name="configure"/>.</summary>
    public static IServiceCollection AddEgressPolicy(this IServiceCollection services, Action<EgressPolicyOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<EgressPolicyOptions>().Configure(configure);
        services.TryAddSingleton(static sp => new EgressMetrics(sp.GetService<IMeterFactory>()));
        services.TryAddSingleton(static sp =>
        {
            var options = sp.GetRequiredService<IOptions<EgressPolicyOptions>>().Value;
            return EgressPolicy.Create(
                options.Configuration ?? EgressOptionsReader.FromEnvironment(),
                options.Log,
                sp.GetService<TimeProvider>(),
                sp.GetRequiredService<EgressMetrics>(),
                sp.GetServices<EgressEventSink>());
        });
        return services;
    }
}

using Egress.Http;
using Microsoft.Extensions.Configuration;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the egress policy to every <see cref="IHttpClientFactory"/> client at once.</summary>
public static class EgressServiceCollectionExtensions
{
    /// <summary>Enforces the egress policy on every factory client (through <c>ConfigureHttpClientDefaults</c>). Safe to call twice.</summary>
    public static IServiceCollection AddEgressPolicyForAllHttpClients(this IServiceCollection services) =>
        services.AddEgressPolicyForAllHttpClients(static _ => { });

    /// <summary>Enforces the egress policy on every factory client, configured by <paramref name="configure"/>.</summary>
    public static IServiceCollection AddEgressPolicyForAllHttpClients(this IServiceCollection services, Action<EgressHttpOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        return services.ConfigureHttpClientDefaults(builder => builder.AddEgressPolicy(configure));
    }

    /// <summary>Enforces the egress policy on every factory client, configured from <paramref name="section"/>.</summary>
    public static IServiceCollection AddEgressPolicyForAllHttpClients(this IServiceCollection services, IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return services.AddEgressPolicyForAllHttpClients(options => EgressHttpClientBuilderExtensions.Bind(options, section));
    }
}

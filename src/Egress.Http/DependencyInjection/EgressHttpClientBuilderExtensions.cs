using Egress.Http;
using Egress.Http.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the egress policy to <see cref="IHttpClientFactory"/> clients.</summary>
public static class EgressHttpClientBuilderExtensions
{
    /// <summary>
    /// Enforces the egress policy on this client: the request URI is checked before sending, and each new
    /// connection of the primary SocketsHttpHandler (redirect hops included) is checked host and resolved
    /// address. Safe to call twice.
    /// </summary>
    public static IHttpClientBuilder AddEgressPolicy(this IHttpClientBuilder builder) => builder.AddEgressPolicy(static _ => { });

    /// <summary>Enforces the egress policy on this client, configured by <paramref name="configure"/>.</summary>
    public static IHttpClientBuilder AddEgressPolicy(this IHttpClientBuilder builder, Action<EgressHttpOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        Register(builder.Services, builder.Name);
        if (builder.Name is null)
        {
            builder.Services.ConfigureAll(configure);
        }
        else
        {
            builder.Services.Configure(builder.Name, configure);
        }

        return builder;
    }

    /// <summary>
    /// Enforces the egress policy on this client, configured from <paramref name="section"/>
    /// (<c>GuardConnections</c>: true/false).
    /// </summary>
    public static IHttpClientBuilder AddEgressPolicy(this IHttpClientBuilder builder, IConfigurationSection section)
    {
        ArgumentNullException.ThrowIfNull(section);
        return builder.AddEgressPolicy(options => Bind(options, section));
    }

    internal static void Register(IServiceCollection services, string? name)
    {
        services.AddOptions();
        services.TryAddSingleton<EgressHttpClientRegistry>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHttpMessageHandlerBuilderFilter, EgressHandlerBuilderFilter>());

        // The registry is filled when the container is built; each registration names its client (null = all).
        services.AddSingleton(new EgressClientRegistration(name));
    }

    internal static void Bind(EgressHttpOptions options, IConfigurationSection section)
    {
        if (section[nameof(EgressHttpOptions.GuardConnections)] is { } guard)
        {
            options.GuardConnections = bool.TryParse(guard, out bool value)
                ? value
                : throw new InvalidOperationException($"{section.Path}:{nameof(EgressHttpOptions.GuardConnections)} must be true or false, not '{guard}'");
        }
    }
}

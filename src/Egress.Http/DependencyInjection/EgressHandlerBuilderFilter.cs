using Egress.Policy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace Egress.Http.DependencyInjection;

/// <summary>
/// Runs after every other configuration of a factory client's pipeline, so it sees the final primary
/// handler: adds <see cref="EgressPolicyHandler"/> as the outermost handler and the connection guard on the
/// primary SocketsHttpHandler. The policy is the client's <see cref="EgressHttpOptions.Policy"/>, else the
/// container's (<c>services.AddEgressPolicy()</c>), else <see cref="EgressPolicy.Shared"/>.
/// </summary>
internal sealed class EgressHandlerBuilderFilter(EgressHttpClientRegistry registry, IOptionsMonitor<EgressHttpOptions> options, IServiceProvider services) : IHttpMessageHandlerBuilderFilter
{
    public Action<HttpMessageHandlerBuilder> Configure(Action<HttpMessageHandlerBuilder> next)
    {
        ArgumentNullException.ThrowIfNull(next);
        return builder =>
        {
            next(builder);
            if (!registry.Covers(builder.Name))
            {
                return;
            }

            var settings = options.Get(builder.Name);
            var policy = settings.Policy ?? services.GetService<EgressPolicy>() ?? EgressPolicy.Shared;
            if (!builder.AdditionalHandlers.Any(h => h is EgressPolicyHandler))
            {
                builder.AdditionalHandlers.Insert(0, new EgressPolicyHandler(policy));
            }

            if (!settings.GuardConnections)
            {
                return;
            }

            if (PrimaryHandlerAccess.FindSockets(builder.PrimaryHandler) is not { } sockets)
            {
                policy.Events.Log?.Warn($"HttpClient '{builder.Name}': primary handler {builder.PrimaryHandler.GetType().Name} has no SocketsHttpHandler; only the first request URI is checked, not redirect hops or resolved addresses");
                return;
            }

            try
            {
                EgressConnectCallback.Apply(sockets, policy, settings.Resolver);
            }
            catch (InvalidOperationException ex)
            {
                // The handler was already used (shared instance); its connections stay unguarded.
                policy.Events.Log?.Warn($"HttpClient '{builder.Name}': could not guard connections ({ex.Message})");
            }
        };
    }
}

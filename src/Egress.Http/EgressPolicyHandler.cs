using Egress.Policy;

namespace Egress.Http;

/// <summary>
/// Checks the request URI against the policy before the request leaves the client pipeline, records the
/// event (<c>source=http</c>) and throws <see cref="EgressDeniedException"/> on denial. Redirect hops are
/// followed below this handler, inside the primary handler: pair it with the connection guard
/// (<see cref="EgressConnectCallback"/>) or <see cref="EgressGuard"/> to cover them.
/// </summary>
public sealed class EgressPolicyHandler : DelegatingHandler
{
    private readonly EgressPolicy? _policy;

    /// <summary>Creates the handler for <paramref name="policy"/> (the shared policy when null).</summary>
    public EgressPolicyHandler(EgressPolicy? policy = null) => _policy = policy;

    /// <summary>Creates the handler with an inner handler.</summary>
    public EgressPolicyHandler(HttpMessageHandler innerHandler, EgressPolicy? policy = null)
        : base(innerHandler) => _policy = policy;

    /// <summary>The policy enforced.</summary>
    public EgressPolicy Policy => _policy ?? EgressPolicy.Shared;

    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var policy = Policy;
        if (EgressHttp.EnforceRequest(policy, request.RequestUri, request.Headers.Host, out _) is { } denied)
        {
            return Task.FromException<HttpResponseMessage>(denied);
        }

        if (request.RequestUri is { IsAbsoluteUri: true } uri)
        {
            request.Options.Set(EgressHttp.RecordedKey, uri);
        }

        return SendCoreAsync(request, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex) when (ex is not EgressDeniedException && ex.InnerException is EgressDeniedException denied)
        {
            // The connection guard's refusal arrives wrapped by SocketsHttpHandler; surface it as itself.
            throw denied;
        }
    }

    /// <summary>
    /// Whether this handler already recorded the decision for the request's current URI (the first hop; the
    /// redirect stage replaces the URI object for each further hop).
    /// </summary>
    internal static bool AlreadyRecorded(HttpRequestMessage? request) =>
        request is not null
        && request.Options.TryGetValue(EgressHttp.RecordedKey, out var recorded)
        && ReferenceEquals(recorded, request.RequestUri);
}

using System.Net;
using System.Net.Sockets;
using Egress.Policy;
using Egress.Policy.Destinations;

namespace Egress.Http;

/// <summary>
/// A <see cref="SocketsHttpHandler.ConnectCallback"/> that enforces the policy on every new connection,
/// redirect hops included: it checks the real destination (the request URI when a proxy is in between),
/// resolves the name once, checks <b>every</b> resolved address with
/// <see cref="EgressPolicy.DecideAddress(in Destination, IPAddress)"/>, and connects only to the checked
/// addresses, never by name again (DNS-rebinding defence).
/// </summary>
public static class EgressConnectCallback
{
    /// <summary>Builds the callback.</summary>
    /// <param name="policy">Policy to enforce; the shared one when null.</param>
    /// <param name="resolver">Resolver; <see cref="Dns.GetHostAddressesAsync(string, CancellationToken)"/> when null.</param>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> Create(
        EgressPolicy? policy = null, Func<string, CancellationToken, Task<IPAddress[]>>? resolver = null) =>
        new Guard(policy, resolver, inner: null).ConnectAsync;

    /// <summary>
    /// Installs the callback on <paramref name="handler"/>. An existing callback is kept and runs after the
    /// host check (it then owns resolution, so the per-address check is its responsibility). Calling it
    /// twice is harmless.
    /// </summary>
    /// <returns><paramref name="handler"/>.</returns>
    public static SocketsHttpHandler Apply(SocketsHttpHandler handler, EgressPolicy? policy = null, Func<string, CancellationToken, Task<IPAddress[]>>? resolver = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (handler.ConnectCallback?.Target is Guard)
        {
            return handler;
        }

        handler.ConnectCallback = new Guard(policy, resolver, handler.ConnectCallback).ConnectAsync;
        return handler;
    }

    /// <summary>Whether <paramref name="handler"/> already carries the guard.</summary>
    public static bool IsApplied(SocketsHttpHandler handler) => handler?.ConnectCallback?.Target is Guard;

    private sealed class Guard(
        EgressPolicy? policy,
        Func<string, CancellationToken, Task<IPAddress[]>>? resolver,
        Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>>? inner)
    {
        public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
        {
            var p = policy ?? EgressPolicy.Shared;
            var endpoint = context.DnsEndPoint;
            var request = context.InitialRequestMessage;
            var uri = request.RequestUri;

            // With a proxy, DnsEndPoint is the proxy; the destination that matters is the request URI.
            bool proxied = uri is { IsAbsoluteUri: true }
                && (uri.Port != endpoint.Port || !HostEquals(uri.IdnHost, endpoint.Host));
            bool parsed = proxied
                ? EgressHttp.TryParse(uri, out var target, out var error)
                : EgressHttp.TryParse(uri?.Scheme ?? "http", endpoint.Host, endpoint.Port, out target, out error);
            if (!parsed)
            {
                if (EgressHttp.Enforce(p, EgressHttp.Invalid(p, error), endpoint.Host) is { } invalid)
                {
                    throw invalid;
                }

                // Audit mode: recorded as a would-be denial; nothing to check the addresses against.
                return await ConnectAsync(await ResolveAsync(endpoint.Host, cancellationToken).ConfigureAwait(false), endpoint.Port, cancellationToken).ConfigureAwait(false);
            }

            var hostDecision = p.Decide(target);
            if (!EgressPolicyHandler.AlreadyRecorded(request) || !hostDecision.Allowed)
            {
                if (EgressHttp.Enforce(p, hostDecision) is { } denied)
                {
                    throw denied;
                }
            }

            if (hostDecision.Outcome == EgressOutcome.Allowed && EgressHttp.EnforceHostHeader(p, request, target) is { } fronted)
            {
                throw fronted;
            }

            if (proxied || inner is not null)
            {
                // The proxy (configured by the operator) or the user's own callback opens the socket.
                return inner is not null
                    ? await inner(context, cancellationToken).ConfigureAwait(false)
                    : await ConnectAsync(await ResolveAsync(endpoint.Host, cancellationToken).ConfigureAwait(false), endpoint.Port, cancellationToken).ConfigureAwait(false);
            }

            // Resolve once; every address must pass, and only those addresses are dialled.
            IPAddress[] addresses = target.Address is { } literal ? [literal] : await ResolveAsync(endpoint.Host, cancellationToken).ConfigureAwait(false);
            if (addresses.Length == 0)
            {
                throw new HttpRequestException(HttpRequestError.NameResolutionError, $"{target.Host} did not resolve to any address");
            }

            bool recordedAudit = false;
            foreach (var address in addresses)
            {
                var decision = p.DecideAddress(target, address);
                if (decision.Outcome == EgressOutcome.Allowed || (decision.WouldDeny && hostDecision.WouldDeny))
                {
                    continue; // allowed, or an audit-mode would-deny already recorded for the host
                }

                if (!decision.Allowed)
                {
                    throw EgressHttp.Enforce(p, decision)!;
                }

                if (!recordedAudit)
                {
                    p.Events.Record(decision, EgressHttp.Source);
                    recordedAudit = true;
                }
            }

            return await ConnectAsync(addresses, endpoint.Port, cancellationToken).ConfigureAwait(false);
        }

        private async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
        {
            if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
            {
                return [literal];
            }

            return resolver is not null
                ? await resolver(host, cancellationToken).ConfigureAwait(false)
                : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        }

        private static async ValueTask<Stream> ConnectAsync(IPAddress[] addresses, int port, CancellationToken cancellationToken)
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(addresses, port, cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        private static bool HostEquals(string uriHost, string endpointHost) =>
            string.Equals(uriHost.Trim('[', ']'), endpointHost.Trim('[', ']'), StringComparison.OrdinalIgnoreCase);
    }
}

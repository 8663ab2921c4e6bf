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
                if (EgressHttp.Refusal(p, p.EvaluateInvalid(error, endpoint.Host, EgressHttp.Context)) is { } invalid)
                {
                    throw invalid;
                }

                // Audit mode: recorded as a would-be denial; nothing to check the addresses against.
                return await ConnectAsync(await ResolveAsync(endpoint.Host, cancellationToken).ConfigureAwait(false), endpoint.Port, cancellationToken).ConfigureAwait(false);
            }

            // One event per connection: the handler above may already have recorded this hop's request decision,
            // in which case only a denial found here (an address, a Host header) is recorded.
            var connection = p.BeginConnection(target, EgressHttp.Context);
            var hostDecision = connection.DecideName(request.Headers.Host, EgressHttp.HostHeader);
            bool recorded = EgressPolicyHandler.AlreadyRecorded(request);
            if (!hostDecision.Allowed)
            {
                connection.Record(hostDecision);
                throw EgressHttp.Refusal(p, hostDecision)!;
            }

            if (proxied || inner is not null)
            {
                // The proxy (configured by the operator) or the user's own callback opens the socket.
                if (!recorded)
                {
                    connection.Record(hostDecision);
                }

                return inner is not null
                    ? await inner(context, cancellationToken).ConfigureAwait(false)
                    : await ConnectAsync(await ResolveAsync(endpoint.Host, cancellationToken).ConfigureAwait(false), endpoint.Port, cancellationToken).ConfigureAwait(false);
            }

            // Resolve once; every address must pass, and only those addresses are dialled.
            IPAddress[] addresses = target.Address is { } literal ? [literal] : await ResolveAsync(endpoint.Host, cancellationToken).ConfigureAwait(false);
            if (addresses.Length == 0)
            {
                if (!recorded)
                {
                    connection.Record(hostDecision);
                }

                throw new HttpRequestException(HttpRequestError.NameResolutionError, $"{target.Host} did not resolve to any address");
            }

            var decisions = new EgressDecision[addresses.Length];
            for (int i = 0; i < addresses.Length; i++)
            {
                decisions[i] = connection.DecideAddress(addresses[i]);
                if (!decisions[i].Allowed)
                {
                    connection.Record(decisions[i]);
                    throw EgressHttp.Refusal(p, decisions[i])!;
                }
            }

            // Dial one checked address at a time so that the event names the address actually reached.
            Exception? last = null;
            foreach (var decision in decisions)
            {
                try
                {
                    var stream = await ConnectAsync([decision.Address!], endpoint.Port, cancellationToken).ConfigureAwait(false);
                    if (!recorded || (decision.WouldDeny && !hostDecision.WouldDeny))
                    {
                        // Not recorded yet, or audit mode found here what the host decision did not (a special-purpose address).
                        connection.Record(decision);
                    }

                    return stream;
                }
                catch (SocketException ex)
                {
                    last = ex;
                }
            }

            if (!recorded)
            {
                connection.Record(hostDecision);
            }

            throw last!;
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

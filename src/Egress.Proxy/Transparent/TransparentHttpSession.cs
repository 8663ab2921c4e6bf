using System.Globalization;
using System.Net.Sockets;
using Egress.Policy;
using Egress.Policy.Destinations;
using Egress.Proxy.Forwarding;
using Egress.Proxy.Http;

namespace Egress.Proxy.Transparent;

/// <summary>
/// A transparently intercepted plain-HTTP/1 connection after its first request was decided and connected: every
/// request on it is framed with the proxy's own HTTP code (<see cref="HeadReader"/>, <see cref="HeadParser"/>,
/// <see cref="MessageFraming"/>, <see cref="BodyCopier"/>) and its <c>Host</c> decided before a byte of it goes
/// on, so a kept-alive connection cannot carry a request for a denied host after an allowed one. Exchanges are
/// sequential (a pipelined request waits in the buffer until the response before it has been relayed), heads
/// and bodies go on verbatim (the client did not know a proxy was there), and a <c>101</c> or a <c>CONNECT</c>
/// turns the connection into an opaque tunnel, as in the proxy. A denied request gets the proxy's 403 at a
/// message boundary and the connection is closed. One event per request and name: the first request was
/// recorded by the connector; a later one for the same name re-records that decision, another <c>Host</c> is
/// decided through <see cref="EgressPolicy.Evaluate(in Destination, string, string, in DecisionContext)"/>
/// (dialled destination and <c>Host</c> name, denied if either is), and an absolute-form or CONNECT target
/// naming another authority is decided as a destination of its own.
/// </summary>
internal sealed class TransparentHttpSession(
    SocketReader clientReader,
    Socket upstream,
    Destination destination,
    EgressDecision first,
    UpstreamConnector connector,
    ProxyOptions options,
    Action touch)
{
    private const int ResponseHeadLimit = 64 * 1024;
    private const int MaxInterimResponses = 16;
    private const string Kind = "transparent";

    private readonly Socket _client = clientReader.Socket;

    /// <summary>Relays exchanges until either side closes, a request is denied, or the connection becomes a tunnel.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        using var upstreamReader = new SocketReader(upstream, ResponseHeadLimit + 1, touch);
        for (int exchange = 0; ; exchange++)
        {
            int headLength;
            HttpHead head;
            try
            {
                headLength = await HeadReader.ReadAsync(clientReader, options.MaxHeaderBytes, options.MaxRequestLineBytes, 400, ct).ConfigureAwait(false);
                if (headLength == 0)
                {
                    return;
                }

                head = HeadParser.ParseRequest(clientReader.Data[..headLength], options.MaxHeaderCount);
                if (!await DecideAsync(head, exchange, ct).ConfigureAwait(false))
                {
                    return;
                }

                var (framing, length) = MessageFraming.Request(head);
                await upstream.SendAsync(clientReader.DataMemory[..headLength], SocketFlags.None, ct).ConfigureAwait(false);
                ProxyMetrics.AddTransmitted(headLength);
                clientReader.Consume(headLength);
                if (head.First == "CONNECT")
                {
                    // Whatever follows is opaque (the same as a CONNECT to a proxy): the authority was decided as the Host.
                    await TunnelAsync(upstreamReader, ct).ConfigureAwait(false);
                    return;
                }

                bool sent = framing switch
                {
                    BodyFraming.None => true,
                    BodyFraming.Length => await BodyCopier.CopyExactAsync(clientReader, upstream, length, ProxyMetrics.AddTransmitted, ct).ConfigureAwait(false),
                    _ => await BodyCopier.CopyChunkedAsync(clientReader, upstream, 400, ProxyMetrics.AddTransmitted, ct).ConfigureAwait(false),
                };
                if (!sent)
                {
                    return;
                }
            }
            catch (HeadParseException ex)
            {
                // A request that does not frame strictly is refused, never passed on for the server to read differently.
                var refused = connector.Invalid($"{destination} (a request on a kept-alive connection: {ex.Message})", Kind);
                await ProxyResponses.TrySendAsync(_client, refused.Response ?? ProxyResponses.Error(ex.Status, ex.Message), ct).ConfigureAwait(false);
                return;
            }

            if (!await RelayResponseAsync(head, upstreamReader, ct).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>
    /// Decides the names a request carries beyond the connection's own; false (after answering 403) when one is
    /// denied. A later request's <c>Host</c> (the first one's named the connection), and on every request an
    /// absolute-form (<c>GET http://other/</c>) or CONNECT target, which a server that is itself a proxy would
    /// follow instead of the Host.
    /// </summary>
    private async ValueTask<bool> DecideAsync(HttpHead head, int exchange, CancellationToken ct)
    {
        bool decided = false;
        var decision = first;
        if (TargetAuthority(head) is { } authority
            && (head.First == "CONNECT" ? authority : "http://" + authority) is var target
            && !(DestinationParser.TryParse(target, out var named, out _) && named.Host == destination.Host && named.Port == destination.Port))
        {
            // Decided as a destination of its own, with its own port: where a proxy there would connect.
            decision = connector.Policy.Evaluate(target, connector.Context);
            ProxyMetrics.Request(Kind, decision.Allowed);
            decided = true;
        }

        if (decision.Allowed && exchange > 0)
        {
            string? host = head.Get("Host");
            if (head.Count("Host") > 1)
            {
                decision = connector.Invalid($"{destination} (more than one Host header)", Kind).Decision;
                decided = true;
            }
            else if (!string.IsNullOrEmpty(host) && !SameName(FirstBytes.StripPort(host)))
            {
                decision = connector.Policy.Evaluate(destination, FirstBytes.StripPort(host), "Host header", connector.Context);
                ProxyMetrics.Request(Kind, decision.Allowed);
                decided = true;
            }
            else if (!decided)
            {
                // The connection's own name (or none, as HTTP/1.0 may send): the decision it was connected under.
                connector.RecordReuse(first, Kind);
                return true;
            }
        }

        if (decision.Allowed)
        {
            return true;
        }

        string shown = decision.DestinationHost ?? destination.Host;
        int port = decision.DestinationHost is null ? destination.Port : decision.Port;
        await ProxyResponses.TrySendAsync(_client, DenialResponse.Build(decision, shown, port, EgressPolicy.SuggestToken(shown, port), connector.Context), ct).ConfigureAwait(false);
        return false;
    }

    /// <summary>The authority of an absolute-form or CONNECT request target, or null for origin-form (<c>/path</c>) and <c>*</c>.</summary>
    private static string? TargetAuthority(HttpHead head)
    {
        string target = head.Second;
        if (head.First == "CONNECT")
        {
            return AuthorityForm.IsHostPort(target) ? target : throw new HeadParseException(400, "malformed CONNECT target");
        }

        if (target.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            return AbsoluteForm.Split(target).Authority;
        }

        return target.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            ? AbsoluteForm.Split("http://" + target["https://".Length..]).Authority
            : null;
    }

    private bool SameName(string name) =>
        DestinationParser.TryParse(name, out var parsed, out _) && string.Equals(parsed.Host, destination.Host, StringComparison.Ordinal);

    /// <summary>Relays the response (interim ones first); true when the connection may carry another request.</summary>
    private async ValueTask<bool> RelayResponseAsync(HttpHead request, SocketReader upstreamReader, CancellationToken ct)
    {
        for (int interim = 0; ; interim++)
        {
            int headLength = await HeadReader.ReadAsync(upstreamReader, ResponseHeadLimit, ResponseHeadLimit, 502, ct).ConfigureAwait(false);
            if (headLength == 0)
            {
                return false;
            }

            var response = HeadParser.ParseResponse(upstreamReader.Data[..headLength], options.MaxHeaderCount);
            int status = int.Parse(response.Second, CultureInfo.InvariantCulture);
            await _client.SendAsync(upstreamReader.DataMemory[..headLength], SocketFlags.None, ct).ConfigureAwait(false);
            ProxyMetrics.AddReceived(headLength);
            upstreamReader.Consume(headLength);
            if (status >= 200)
            {
                var (framing, length) = MessageFraming.Response(request, response, status);
                bool complete = framing switch
                {
                    BodyFraming.None => true,
                    BodyFraming.Length => await BodyCopier.CopyExactAsync(upstreamReader, _client, length, ProxyMetrics.AddReceived, ct).ConfigureAwait(false),
                    BodyFraming.Chunked => await BodyCopier.CopyChunkedAsync(upstreamReader, _client, 502, ProxyMetrics.AddReceived, ct).ConfigureAwait(false),
                    _ => await CopyToEndAsync(upstreamReader, ct).ConfigureAwait(false),
                };
                upstreamReader.Release();
                clientReader.Release();

                // The destination closes after this response: end here rather than send it another request to lose.
                bool upstreamKeepsAlive = response.MinorVersion == 1
                    ? !response.ListContains("Connection", "close")
                    : response.ListContains("Connection", "keep-alive");
                return complete && framing != BodyFraming.UntilClose && upstreamKeepsAlive;
            }

            if (status == 101)
            {
                if (!UpgradeRules.MaySwitch(request, response))
                {
                    // An unsolicited switch would turn the connection into a tunnel no request decided.
                    return false;
                }

                await TunnelAsync(upstreamReader, ct).ConfigureAwait(false);
                return false;
            }

            if (interim == MaxInterimResponses)
            {
                return false;
            }
        }
    }

    private async ValueTask<bool> CopyToEndAsync(SocketReader upstreamReader, CancellationToken ct)
    {
        await BodyCopier.CopyToEndAsync(upstreamReader, _client, ProxyMetrics.AddReceived, ct).ConfigureAwait(false);
        return true;
    }

    /// <summary>Sends what each side has buffered to the other, then relays opaquely.</summary>
    private async Task TunnelAsync(SocketReader upstreamReader, CancellationToken ct)
    {
        await BodyCopier.FlushPendingAsync(upstreamReader, _client, ct).ConfigureAwait(false);
        await BodyCopier.FlushPendingAsync(clientReader, upstream, ct).ConfigureAwait(false);
        await Tunnel.RunAsync(_client, upstream, touch).ConfigureAwait(false);
    }
}

using System.Globalization;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Egress.Policy.Destinations;
using Egress.Proxy.Forwarding;
using Egress.Proxy.Http;

namespace Egress.Proxy;

/// <summary>Plain-HTTP forwarding of absolute-form requests.</summary>
internal sealed partial class ProxyConnection
{
    private const int ResponseHeadLimit = 64 * 1024;
    private const int MaxInterimResponses = 16;
    private const int MaxEarlyBody = 16 * 1024;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ForwardAsync(HttpHead head, UpstreamConnector connector, CancellationToken ct)
    {
        var (authority, pathAndQuery) = AbsoluteForm.Split(head.Second);
        if (!DestinationParser.TryParse("http://" + authority, out var destination, out _))
        {
            await RejectAsync(connector.Invalid(authority, "http").Response!).ConfigureAwait(false);
            return false;
        }

        string? host = head.Get("Host");
        if (host is null && head.MinorVersion == 1)
        {
            throw new HeadParseException(400, "HTTP/1.1 request without Host");
        }

        // The same text parses to the same destination: only a Host that differs from the target's authority is parsed.
        if (host is not null && !string.Equals(host, authority, StringComparison.Ordinal)
            && (!DestinationParser.TryParse("http://" + host, out var hostDestination, out _) || hostDestination != destination))
        {
            throw new HeadParseException(400, "Host header does not match the request target");
        }

        var (requestFraming, requestLength) = MessageFraming.Request(head);
        bool hasBody = requestFraming != BodyFraming.None;
        // A reload re-decides a kept-alive upstream; so does a request of another role on the same connection.
        var key = new UpstreamKey(destination, connector.Generation, connector.Context.Role);
        for (int attempt = 0; ; attempt++)
        {
            bool reused = _upstream is not null && _upstreamKey == key;
            if (reused)
            {
                connector.RecordReuse(_upstreamDecision, "http");
            }
            else
            {
                CloseUpstream();
                var result = await ConnectUpstreamAsync(connector, destination, "http", ct).ConfigureAwait(false);
                if (result.Socket is null)
                {
                    await RejectAsync(result.Response!).ConfigureAwait(false);
                    return false;
                }

                _upstream = result.Socket;
                _upstreamReader = new SocketReader(_upstream, ResponseHeadLimit + 1, _touch);
                _upstreamKey = key;
                _upstreamDecision = result.Decision;
            }

            var upstream = _upstream!;
            var upstreamReader = _upstreamReader!;
            int headLength;
            try
            {
                // RFC 9112 3.2.2: the Host sent on is the authority the proxy decided and connected to, never the
                // client's raw value (userinfo, percent-escapes or a path in it could name another virtual host).
                using (var requestHead = ForwardedHead.Request(head, pathAndQuery, destination.Port == 80 ? destination.Host : destination.ToString()))
                {
                    await upstream.SendAsync(requestHead.Memory, SocketFlags.None, ct).ConfigureAwait(false);
                    ProxyMetrics.AddTransmitted(requestHead.Length);
                }
                if (!await CopyRequestBodyAsync(requestFraming, requestLength, upstream, ct).ConfigureAwait(false))
                {
                    return false;
                }

                headLength = await HeadReader.ReadAsync(upstreamReader, ResponseHeadLimit, ResponseHeadLimit, 502, ct).ConfigureAwait(false);
            }
            catch (SocketException) when (reused && attempt == 0 && !hasBody)
            {
                // The kept-alive connection was closed by the destination meanwhile: retry once on a new one.
                CloseUpstream();
                continue;
            }

            if (headLength == 0)
            {
                CloseUpstream();
                if (reused && attempt == 0 && !hasBody)
                {
                    continue;
                }

                throw new HeadParseException(502, "destination closed the connection without a response");
            }

            return await RelayResponseAsync(head, upstreamReader, headLength, ct).ConfigureAwait(false);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> RelayResponseAsync(HttpHead request, SocketReader upstreamReader, int headLength, CancellationToken ct)
    {
        var upstream = upstreamReader.Socket;
        for (int interim = 0; ; interim++)
        {
            var response = HeadParser.ParseResponse(upstreamReader.Data[..headLength], _options.MaxHeaderCount);
            int status = int.Parse(response.Second, CultureInfo.InvariantCulture);
            if (status >= 200)
            {
                return await RelayFinalResponseAsync(request, response, status, upstreamReader, headLength, ct).ConfigureAwait(false);
            }

            if (interim == MaxInterimResponses)
            {
                throw new HeadParseException(502, $"destination sent more than {MaxInterimResponses} interim responses");
            }

            if (status == 101 && !UpgradeRules.MaySwitch(request, response))
            {
                // An unsolicited switch would turn the client connection into a tunnel no request decided.
                throw new HeadParseException(502, "destination switched protocols without an upgrade request");
            }

            // Interim responses are passed on verbatim (but never to an HTTP/1.0 client, RFC 9110 15.2, which
            // would take one for the final response); 101 turns the connection into a tunnel.
            if (request.MinorVersion == 1)
            {
                await _client.SendAsync(upstreamReader.DataMemory[..headLength], SocketFlags.None, ct).ConfigureAwait(false);
            }

            upstreamReader.Consume(headLength);
            ProxyMetrics.AddReceived(headLength);
            if (status == 101)
            {
                await BodyCopier.FlushPendingAsync(upstreamReader, _client, ct).ConfigureAwait(false);
                await BodyCopier.FlushPendingAsync(_clientReader, upstream, ct).ConfigureAwait(false);
                _upstream = null;
                try
                {
                    await Tunnel.RunAsync(_client, upstream, _touch).ConfigureAwait(false);
                }
                finally
                {
                    QuietSocket.Close(upstream);
                }

                return false;
            }

            headLength = await HeadReader.ReadAsync(upstreamReader, ResponseHeadLimit, ResponseHeadLimit, 502, ct).ConfigureAwait(false);
            if (headLength == 0)
            {
                throw new HeadParseException(502, "destination closed the connection after an interim response");
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> RelayFinalResponseAsync(HttpHead request, HttpHead response, int status, SocketReader upstreamReader, int headLength, CancellationToken ct)
    {
        var (framing, length) = MessageFraming.Response(request, response, status);
        bool clientKeepAlive = request.MinorVersion == 1 && !request.ListContains("Connection", "close") && framing != BodyFraming.UntilClose && !_stopping();
        bool upstreamKeepAlive = response.MinorVersion == 1 && !response.ListContains("Connection", "close") && framing != BodyFraming.UntilClose;

        upstreamReader.Consume(headLength);
        ProxyMetrics.AddReceived(headLength);

        // The body bytes that came with the head (all of a small response) go out in the same write: one
        // system call and one segment for the client instead of two. Capped, so the copy this makes stays small
        // while a slow client reads it; the rest of a larger body is sent from the receive buffer as before.
        int early = framing == BodyFraming.Length ? (int)Math.Min(Math.Min(length, upstreamReader.Count), MaxEarlyBody) : 0;
        using (var bytes = ForwardedHead.Response(response, !clientKeepAlive, headLength, upstreamReader.Data[..early]))
        {
            await _client.SendAsync(bytes.Memory, SocketFlags.None, ct).ConfigureAwait(false);
        }

        if (early > 0)
        {
            upstreamReader.Consume(early);
            ProxyMetrics.AddReceived(early);
            length -= early;
        }

        bool complete = framing switch
        {
            BodyFraming.None => true,
            BodyFraming.Length => await BodyCopier.CopyExactAsync(upstreamReader, _client, length, ProxyMetrics.AddReceived, ct).ConfigureAwait(false),
            BodyFraming.Chunked => await BodyCopier.CopyChunkedAsync(upstreamReader, _client, 502, ProxyMetrics.AddReceived, ct).ConfigureAwait(false),
            _ => await CopyUntilCloseAsync(upstreamReader, ct).ConfigureAwait(false),
        };

        if (!complete || !upstreamKeepAlive || upstreamReader.Count > 0)
        {
            CloseUpstream();
        }
        else
        {
            upstreamReader.Release();
        }

        _clientReader.Release();
        return complete && clientKeepAlive;
    }

    private async ValueTask<bool> CopyUntilCloseAsync(SocketReader upstreamReader, CancellationToken ct)
    {
        await BodyCopier.CopyToEndAsync(upstreamReader, _client, ProxyMetrics.AddReceived, ct).ConfigureAwait(false);
        return true;
    }

    private async ValueTask<bool> CopyRequestBodyAsync(BodyFraming framing, long length, Socket upstream, CancellationToken ct) => framing switch
    {
        BodyFraming.None => true,
        BodyFraming.Length => await BodyCopier.CopyExactAsync(_clientReader, upstream, length, ProxyMetrics.AddTransmitted, ct).ConfigureAwait(false),
        _ => await BodyCopier.CopyChunkedAsync(_clientReader, upstream, 400, ProxyMetrics.AddTransmitted, ct).ConfigureAwait(false),
    };

    /// <summary>What a kept-alive destination connection was decided for: reused only for the same destination, policy generation and role.</summary>
    private readonly record struct UpstreamKey(Destination Destination, long Generation, string? Role);
}

using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Egress.Policy.Destinations;
using Egress.Proxy.Forwarding;
using Egress.Proxy.Http;

namespace Egress.Proxy;

/// <summary>Plain-HTTP forwarding of absolute-form requests.</summary>
internal sealed partial class ProxyConnection
{
    private const int ResponseHeadLimit = 64 * 1024;

    private static readonly string[] HopByHop = ["Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authorization", "TE", "Trailer", "Upgrade"];

    private enum Framing
    {
        None,
        Length,
        Chunked,
        UntilClose,
    }

    private async ValueTask<bool> ForwardAsync(HttpHead head, CancellationToken ct)
    {
        string target = head.Second;
        int authorityEnd = target.AsSpan(7).IndexOfAny("/?#");
        string authority = authorityEnd < 0 ? target[7..] : target.Substring(7, authorityEnd);
        string rest = authorityEnd < 0 ? string.Empty : target[(7 + authorityEnd)..];
        if (authority.Length == 0 || authority.Contains('@', StringComparison.Ordinal) || rest.Contains('#', StringComparison.Ordinal))
        {
            throw new HeadParseException(400, "malformed absolute-form target (userinfo and fragments are not accepted)");
        }

        string pathAndQuery = rest.Length == 0 ? "/" : rest[0] == '?' ? "/" + rest : rest;
        if (!DestinationParser.TryParse("http://" + authority, out var destination, out _))
        {
            await RejectAsync(_connector.Invalid(authority, "http").Response!).ConfigureAwait(false);
            return false;
        }

        string? host = head.Get("Host");
        if (host is null && head.MinorVersion == 1)
        {
            throw new HeadParseException(400, "HTTP/1.1 request without Host");
        }

        if (host is not null && (!DestinationParser.TryParse("http://" + host, out var hostDestination, out _) || hostDestination != destination))
        {
            throw new HeadParseException(400, "Host header does not match the request target");
        }

        var (requestFraming, requestLength) = RequestFraming(head);
        bool hasBody = requestFraming != Framing.None;
        string key = destination.ToString();
        for (int attempt = 0; ; attempt++)
        {
            bool reused = _upstream is not null && _upstreamKey == key;
            if (reused)
            {
                _connector.RecordReuse(_upstreamDecision, "http");
            }
            else
            {
                CloseUpstream();
                var result = await _connector.ConnectAsync(destination, "http", ct).ConfigureAwait(false);
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
                byte[] requestHead = BuildRequestHead(head, pathAndQuery, destination.Port == 80 ? destination.Host : destination.ToString());
                await upstream.SendAsync(requestHead, SocketFlags.None, ct).ConfigureAwait(false);
                ProxyMetrics.AddTransmitted(requestHead.Length);
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

    private async ValueTask<bool> RelayResponseAsync(HttpHead request, SocketReader upstreamReader, int headLength, CancellationToken ct)
    {
        var upstream = upstreamReader.Socket;
        while (true)
        {
            var response = HeadParser.ParseResponse(upstreamReader.Data[..headLength], _options.MaxHeaderCount);
            int status = int.Parse(response.Second, CultureInfo.InvariantCulture);
            if (status >= 200)
            {
                return await RelayFinalResponseAsync(request, response, status, upstreamReader, headLength, ct).ConfigureAwait(false);
            }

            // Interim responses are passed on verbatim; 101 turns the connection into a tunnel.
            await _client.SendAsync(upstreamReader.DataMemory[..headLength], SocketFlags.None, ct).ConfigureAwait(false);
            upstreamReader.Consume(headLength);
            ProxyMetrics.AddReceived(headLength);
            if (status == 101)
            {
                await FlushPendingAsync(upstreamReader, _client, ct).ConfigureAwait(false);
                await FlushPendingAsync(_clientReader, upstream, ct).ConfigureAwait(false);
                _upstream = null;
                try
                {
                    await Tunnel.RunAsync(_client, upstream, _touch).ConfigureAwait(false);
                }
                finally
                {
                    Close(upstream);
                }

                return false;
            }

            headLength = await HeadReader.ReadAsync(upstreamReader, ResponseHeadLimit, ResponseHeadLimit, 502, ct).ConfigureAwait(false);
            if (headLength == 0)
            {
                return false;
            }
        }
    }

    private async ValueTask<bool> RelayFinalResponseAsync(HttpHead request, HttpHead response, int status, SocketReader upstreamReader, int headLength, CancellationToken ct)
    {
        var (framing, length) = ResponseFraming(request, response, status);
        bool clientKeepAlive = request.MinorVersion == 1 && !request.ListContains("Connection", "close") && framing != Framing.UntilClose && !_stopping();
        bool upstreamKeepAlive = response.MinorVersion == 1 && !response.ListContains("Connection", "close") && framing != Framing.UntilClose;

        var sb = new StringBuilder(headLength + 32);
        sb.Append(response.First).Append(' ').Append(response.Second).Append(' ').Append(response.Third).Append("\r\n");
        AppendEndToEnd(sb, response);
        if (!clientKeepAlive)
        {
            sb.Append("Connection: close\r\n");
        }

        sb.Append("\r\n");
        byte[] bytes = Encoding.Latin1.GetBytes(sb.ToString());
        upstreamReader.Consume(headLength);
        await _client.SendAsync(bytes, SocketFlags.None, ct).ConfigureAwait(false);
        ProxyMetrics.AddReceived(headLength);

        bool complete = framing switch
        {
            Framing.None => true,
            Framing.Length => await BodyCopier.CopyExactAsync(upstreamReader, _client, length, ProxyMetrics.AddReceived, ct).ConfigureAwait(false),
            Framing.Chunked => await BodyCopier.CopyChunkedAsync(upstreamReader, _client, 502, ProxyMetrics.AddReceived, ct).ConfigureAwait(false),
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

    private async ValueTask<bool> CopyRequestBodyAsync(Framing framing, long length, Socket upstream, CancellationToken ct) => framing switch
    {
        Framing.None => true,
        Framing.Length => await BodyCopier.CopyExactAsync(_clientReader, upstream, length, ProxyMetrics.AddTransmitted, ct).ConfigureAwait(false),
        _ => await BodyCopier.CopyChunkedAsync(_clientReader, upstream, 400, ProxyMetrics.AddTransmitted, ct).ConfigureAwait(false),
    };

    private static async ValueTask FlushPendingAsync(SocketReader reader, Socket destination, CancellationToken ct)
    {
        if (reader.Count > 0)
        {
            int n = reader.Count;
            await destination.SendAsync(reader.DataMemory, SocketFlags.None, ct).ConfigureAwait(false);
            reader.Consume(n);
        }

        reader.Release();
    }

    private static byte[] BuildRequestHead(HttpHead head, string pathAndQuery, string host)
    {
        var sb = new StringBuilder(256);
        sb.Append(head.First).Append(' ').Append(pathAndQuery).Append(' ').Append(head.Third).Append("\r\n");
        sb.Append("Host: ").Append(host).Append("\r\n");
        bool upgrade = head.Get("Upgrade") is { } protocol && head.ListContains("Connection", "upgrade");
        foreach (var field in head.Headers)
        {
            if (field.Is("Host") || (IsHopByHop(field, head) && !(upgrade && field.Is("Upgrade"))))
            {
                continue;
            }

            sb.Append(field.Name).Append(": ").Append(field.Value).Append("\r\n");
        }

        if (upgrade)
        {
            sb.Append("Connection: upgrade\r\n");
        }

        sb.Append("\r\n");
        return Encoding.Latin1.GetBytes(sb.ToString());
    }

    private static void AppendEndToEnd(StringBuilder sb, HttpHead response)
    {
        bool upgrade = response.Second == "101";
        foreach (var field in response.Headers)
        {
            if (IsHopByHop(field, response) && !(upgrade && (field.Is("Upgrade") || field.Is("Connection"))))
            {
                continue;
            }

            sb.Append(field.Name).Append(": ").Append(field.Value).Append("\r\n");
        }
    }

    private static bool IsHopByHop(HeaderField field, HttpHead message)
    {
        foreach (var name in HopByHop)
        {
            if (field.Is(name))
            {
                return true;
            }
        }

        // Fields the sender named in Connection are hop-by-hop too.
        return !field.Is("Content-Length") && !field.Is("Transfer-Encoding") && message.ListContains("Connection", field.Name);
    }

    private static (Framing Framing, long Length) RequestFraming(HttpHead head)
    {
        string? te = head.Get("Transfer-Encoding");
        int lengths = head.Count("Content-Length");
        if (te is not null)
        {
            if (lengths > 0 || head.Count("Transfer-Encoding") > 1 || head.MinorVersion == 0)
            {
                throw new HeadParseException(400, "ambiguous message framing (Transfer-Encoding with Content-Length, repeated, or on HTTP/1.0)");
            }

            if (!te.Equals("chunked", StringComparison.OrdinalIgnoreCase))
            {
                throw new HeadParseException(501, "only Transfer-Encoding: chunked is supported");
            }

            return (Framing.Chunked, 0);
        }

        if (lengths == 0)
        {
            return (Framing.None, 0);
        }

        long length = ContentLength(head, 400);
        return length == 0 ? (Framing.None, 0) : (Framing.Length, length);
    }

    private static (Framing Framing, long Length) ResponseFraming(HttpHead request, HttpHead response, int status)
    {
        if (request.First == "HEAD" || status is 204 or 304)
        {
            return (Framing.None, 0);
        }

        if (response.Get("Transfer-Encoding") is { } te)
        {
            string last = te.Split(',', StringSplitOptions.TrimEntries)[^1];
            return last.Equals("chunked", StringComparison.OrdinalIgnoreCase) ? (Framing.Chunked, 0) : (Framing.UntilClose, 0);
        }

        if (response.Count("Content-Length") > 0)
        {
            long length = ContentLength(response, 502);
            return length == 0 ? (Framing.None, 0) : (Framing.Length, length);
        }

        return (Framing.UntilClose, 0);
    }

    private static long ContentLength(HttpHead head, int status)
    {
        long? result = null;
        foreach (var field in head.Headers)
        {
            if (!field.Is("Content-Length"))
            {
                continue;
            }

            foreach (var part in field.Value.Split(',', StringSplitOptions.TrimEntries))
            {
                if (part.Length is 0 or > 18 || !long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out long value) || (result is { } seen && seen != value))
                {
                    throw new HeadParseException(status, "invalid or conflicting Content-Length");
                }

                result = value;
            }
        }

        return result ?? 0;
    }
}

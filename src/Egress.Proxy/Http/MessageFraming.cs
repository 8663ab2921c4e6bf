using System.Globalization;

namespace Egress.Proxy.Http;

/// <summary>
/// Decides how a request's or response's body is delimited (RFC 9112 §6.3), refusing the ambiguous
/// framings that enable request smuggling.
/// </summary>
internal static class MessageFraming
{
    private static readonly char[] Ows = [' ', '\t'];

    /// <summary>The request body's framing; throws <see cref="HeadParseException"/> (400/501) when ambiguous or unsupported.</summary>
    public static (BodyFraming Framing, long Length) Request(HttpHead head)
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

            return (BodyFraming.Chunked, 0);
        }

        if (lengths == 0)
        {
            return (BodyFraming.None, 0);
        }

        long length = ContentLength(head, 400);
        return length == 0 ? (BodyFraming.None, 0) : (BodyFraming.Length, length);
    }

    /// <summary>The response body's framing given the request it answers; throws 502 for an invalid Content-Length.</summary>
    public static (BodyFraming Framing, long Length) Response(HttpHead request, HttpHead response, int status)
    {
        if (request.First == "HEAD" || status is 204 or 304)
        {
            return (BodyFraming.None, 0);
        }

        if (response.Get("Transfer-Encoding") is { } te)
        {
            string last = te.Split(',')[^1].Trim(Ows);
            return last.Equals("chunked", StringComparison.OrdinalIgnoreCase) ? (BodyFraming.Chunked, 0) : (BodyFraming.UntilClose, 0);
        }

        if (response.Count("Content-Length") > 0)
        {
            long length = ContentLength(response, 502);
            return length == 0 ? (BodyFraming.None, 0) : (BodyFraming.Length, length);
        }

        return (BodyFraming.UntilClose, 0);
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

            foreach (var item in field.Value.Split(','))
            {
                // Only spaces and tabs may surround a list item (RFC 9110 §5.6.1, OWS), and a length is digits only
                // (§8.6). TrimEntries would also strip NBSP or NEL (0xA0, 0x85 as Latin-1): "5\xA0" would then
                // frame 5 bytes here while the field went on verbatim to a destination that reads it otherwise.
                string part = item.Trim(Ows);
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

using System.Globalization;

namespace Egress.Proxy.Http;

/// <summary>
/// Decides how a request's or response's body is delimited (RFC 9112 §6.3), refusing the ambiguous
/// framings that enable request smuggling.
/// </summary>
internal static class MessageFraming
{
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
            string last = te.Split(',', StringSplitOptions.TrimEntries)[^1];
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

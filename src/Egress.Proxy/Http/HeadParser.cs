using System.Text;

namespace Egress.Proxy.Http;

/// <summary>
/// Strict HTTP/1.x head parsing (RFC 9112): CRLF line endings only, no obs-fold, no whitespace before the
/// colon, field names of token characters, no control characters in values, bounded field count.
/// Anything else is rejected rather than guessed at: a proxy that reads a message differently from the
/// server behind it invites request smuggling.
/// </summary>
internal static class HeadParser
{
    private static ReadOnlySpan<byte> Crlf => "\r\n"u8;

    // Strings every message head repeats, handed out instead of a new copy when the bytes are exactly these
    // (case included, so what is forwarded is still what was received): a kept-alive request parsed two heads'
    // worth of them per request. Values are not shared; they vary.
    private static readonly string[] CommonMethods = ["GET", "POST", "CONNECT", "HEAD", "PUT"];
    private static readonly string[] CommonStatuses = ["200", "204", "206", "301", "302", "304", "404"];
    private static readonly string[] CommonNames =
    [
        "Host", "Content-Length", "Content-Type", "Connection", "Transfer-Encoding", "User-Agent", "Accept",
        "Accept-Encoding", "Date", "Server", "Proxy-Authorization", "Proxy-Connection", "Keep-Alive", "Cache-Control",
        "host", "content-length", "content-type", "connection", "transfer-encoding", "user-agent", "accept",
        "accept-encoding", "date", "server",
    ];

    /// <summary>Parses a request head (<paramref name="head"/> ends with CRLF CRLF).</summary>
    public static HttpHead ParseRequest(ReadOnlySpan<byte> head, int maxHeaderCount)
    {
        int lineEnd = head.IndexOf(Crlf);
        var line = head[..lineEnd];
        int sp1 = line.IndexOf((byte)' ');
        int sp2 = sp1 < 0 ? -1 : line[(sp1 + 1)..].IndexOf((byte)' ');
        if (sp1 <= 0 || sp2 <= 0)
        {
            throw new HeadParseException(400, "malformed request line");
        }

        sp2 += sp1 + 1;
        var method = line[..sp1];
        var target = line[(sp1 + 1)..sp2];
        var version = line[(sp2 + 1)..];
        if (!IsToken(method))
        {
            throw new HeadParseException(400, "malformed method");
        }

        foreach (byte b in target)
        {
            if (b is <= 0x20 or >= 0x7F)
            {
                throw new HeadParseException(400, "malformed request target");
            }
        }

        int minor = ParseVersion(version, 400);
        return new HttpHead
        {
            First = AsciiString(method, CommonMethods),
            Second = Encoding.ASCII.GetString(target),
            Third = minor == 1 ? "HTTP/1.1" : "HTTP/1.0",
            MinorVersion = minor,
            Headers = ParseFields(head[(lineEnd + 2)..], maxHeaderCount, 400),
        };
    }

    /// <summary>Parses a response head; failures carry status 502.</summary>
    public static HttpHead ParseResponse(ReadOnlySpan<byte> head, int maxHeaderCount)
    {
        int lineEnd = head.IndexOf(Crlf);
        var line = head[..lineEnd];
        if (line.Length < 12 || line[8] != (byte)' ' || (line.Length > 12 && line[12] != (byte)' '))
        {
            throw new HeadParseException(502, "malformed status line from destination");
        }

        int minor = ParseVersion(line[..8], 502);
        var code = line[9..12];
        foreach (byte b in code)
        {
            if (!char.IsAsciiDigit((char)b))
            {
                throw new HeadParseException(502, "malformed status code from destination");
            }
        }

        var reason = line.Length > 13 ? line[13..] : [];
        foreach (byte b in reason)
        {
            if (b is < 0x20 and not 0x09 or 0x7F)
            {
                throw new HeadParseException(502, "malformed reason phrase from destination");
            }
        }

        return new HttpHead
        {
            First = minor == 1 ? "HTTP/1.1" : "HTTP/1.0",
            Second = AsciiString(code, CommonStatuses),
            Third = reason.SequenceEqual("OK"u8) ? "OK" : Encoding.Latin1.GetString(reason),
            MinorVersion = minor,
            Headers = ParseFields(head[(lineEnd + 2)..], maxHeaderCount, 502),
        };
    }

    /// <summary>Whether every byte is an RFC 9110 token character.</summary>
    public static bool IsToken(ReadOnlySpan<byte> s)
    {
        if (s.IsEmpty)
        {
            return false;
        }

        foreach (byte b in s)
        {
            if (!(char.IsAsciiLetterOrDigit((char)b) || "!#$%&'*+-.^_`|~"u8.Contains(b)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The string for ASCII <paramref name="bytes"/>: one of <paramref name="common"/> when it is exactly that, else a new one.</summary>
    private static string AsciiString(ReadOnlySpan<byte> bytes, string[] common)
    {
        foreach (string candidate in common)
        {
            if (candidate.Length == bytes.Length && Ascii.Equals(bytes, candidate))
            {
                return candidate;
            }
        }

        return Encoding.ASCII.GetString(bytes);
    }

    private static int ParseVersion(ReadOnlySpan<byte> version, int status)
    {
        if (version.SequenceEqual("HTTP/1.1"u8))
        {
            return 1;
        }

        if (version.SequenceEqual("HTTP/1.0"u8))
        {
            return 0;
        }

        if (version.Length == 8 && version.StartsWith("HTTP/"u8) && char.IsAsciiDigit((char)version[5]) && version[6] == (byte)'.' && char.IsAsciiDigit((char)version[7]))
        {
            throw new HeadParseException(status == 400 ? 505 : status, "unsupported HTTP version");
        }

        throw new HeadParseException(status, "malformed HTTP version");
    }

    private static List<HeaderField> ParseFields(ReadOnlySpan<byte> fields, int maxCount, int status)
    {
        // One field per line before the empty one: sized once instead of growing through 4, 8 and 16.
        var result = new List<HeaderField>(Math.Clamp(fields.Count(Crlf) - 1, 0, maxCount));
        while (true)
        {
            int end = fields.IndexOf(Crlf);
            var line = fields[..end];
            fields = fields[(end + 2)..];
            if (line.IsEmpty)
            {
                return result;
            }

            if (line[0] is (byte)' ' or (byte)'\t')
            {
                throw new HeadParseException(status, "obsolete line folding is not accepted");
            }

            int colon = line.IndexOf((byte)':');
            if (colon <= 0 || !IsToken(line[..colon]))
            {
                throw new HeadParseException(status, "malformed header field name");
            }

            var value = line[(colon + 1)..].Trim(" \t"u8);
            foreach (byte b in value)
            {
                if (b is < 0x20 and not 0x09 or 0x7F)
                {
                    throw new HeadParseException(status, "control character in header field value");
                }
            }

            if (result.Count == maxCount)
            {
                throw new HeadParseException(status == 400 ? 431 : status, "too many header fields");
            }

            result.Add(new HeaderField(AsciiString(line[..colon], CommonNames), Encoding.Latin1.GetString(value)));
        }
    }

    /// <summary>Refuses a bare CR, a bare LF or a NUL anywhere in a complete head (RFC 9112 §2.2: we accept CRLF only).</summary>
    public static void CheckLineEndings(ReadOnlySpan<byte> head, int status)
    {
        if (CheckLineEndings(head, 0, status) < head.Length)
        {
            throw new HeadParseException(status, "bare CR in message head");
        }
    }

    /// <summary>
    /// Checks the line endings of a head that is still arriving, from <paramref name="from"/> (the value this
    /// returned last time) on, so a head that can never be valid is refused as soon as its bytes arrive
    /// rather than when the header timeout fires. Returns how far the bytes are checked: a final CR waits
    /// for the byte after it.
    /// </summary>
    public static int CheckLineEndings(ReadOnlySpan<byte> data, int from, int status)
    {
        int i = from;
        for (; i < data.Length; i++)
        {
            byte b = data[i];
            if (b == (byte)'\r')
            {
                if (i + 1 >= data.Length)
                {
                    return i;
                }

                if (data[i + 1] != (byte)'\n')
                {
                    throw new HeadParseException(status, "bare CR in message head");
                }

                i++;
            }
            else if (b == (byte)'\n')
            {
                throw new HeadParseException(status, "bare LF in message head");
            }
            else if (b == 0)
            {
                throw new HeadParseException(status, "NUL in message head");
            }
        }

        return i;
    }
}

using System.Buffers;
using System.Net;

namespace Egress.Policy.Destinations;

/// <summary>
/// Turns a URL (<c>https://user@Example.COM./x</c>) or a bare <c>host[:port]</c> into a canonical
/// <see cref="Destination"/>, reading the authority the way the WHATWG URL Standard does. Never throws.
/// </summary>
public static class DestinationParser
{
    /// <summary>Longest destination text accepted; longer input is denied without being parsed.</summary>
    public const int MaxInputLength = 8192;

    private static readonly SearchValues<char> AuthorityEnd = SearchValues.Create("/\\?#");
    private static readonly SearchValues<char> TabOrNewline = SearchValues.Create("\t\n\r");

    /// <summary>Parses <paramref name="input"/>; on failure <paramref name="error"/> says why.</summary>
    public static bool TryParse(string? input, out Destination destination, out string? error)
    {
        destination = default;
        if (input is null)
        {
            error = "no destination";
            return false;
        }

        return TryParse(input.AsSpan(), out destination, out error);
    }

    /// <summary>Parses <paramref name="input"/>; on failure <paramref name="error"/> says why.</summary>
    public static bool TryParse(ReadOnlySpan<char> input, out Destination destination, out string? error)
    {
        destination = default;
        error = null;
        if (input.Length > MaxInputLength)
        {
            error = "destination is too long";
            return false;
        }

        // WHATWG: strip leading/trailing C0 controls and spaces, remove tabs and newlines anywhere.
        input = input.Trim("\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f ");
        if (input.IndexOfAny(TabOrNewline) >= 0)
        {
            input = RemoveTabsAndNewlines(input);
        }

        if (input.IsEmpty)
        {
            error = "empty destination";
            return false;
        }

        int defaultPort = 0;
        ReadOnlySpan<char> rest = input;
        int schemeEnd = SchemeLength(input);
        if (schemeEnd > 0)
        {
            var scheme = input[..schemeEnd];
            var afterColon = input[(schemeEnd + 1)..];
            int special = SpecialDefaultPort(scheme);
            if (special >= 0 && !afterColon.IsEmpty && !afterColon.ContainsAnyExceptInRange('0', '9'))
            {
                // "ws:443" is the host "ws" on port 443 (how Destination.ToString writes it, and what a CONNECT
                // request says), not the URL "ws://443/" that WHATWG would make of it.
                rest = input;
            }
            else if (special >= 0)
            {
                // Special schemes ignore any run of '/' and '\' before the authority.
                defaultPort = special;
                rest = afterColon.TrimStart("/\\");
                if (scheme.Equals("file", StringComparison.OrdinalIgnoreCase))
                {
                    error = "file URLs have no network destination";
                    return false;
                }
            }
            else if (IsNonNetworkScheme(scheme) && (afterColon.IsEmpty || afterColon.ContainsAnyExceptInRange('0', '9')))
            {
                // mailto:someone@api.openai.com names a mailbox, not a host to connect to; data:, javascript:, … name none.
                error = $"{scheme.ToString().ToLowerInvariant()}: URLs have no network destination";
                return false;
            }
            else if (afterColon.StartsWith("//"))
            {
                rest = afterColon[2..];
            }
            else
            {
                // "host:port" looks like "scheme:path"; a bare host with a port is what was meant.
                rest = input;
            }
        }

        int end = rest.IndexOfAny(AuthorityEnd);
        var authority = end < 0 ? rest : rest[..end];

        // Userinfo is dropped; the host follows the last '@' (WHATWG percent-encodes earlier ones into userinfo).
        int at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            authority = authority[(at + 1)..];
        }

        if (authority.IsEmpty)
        {
            error = "destination has no host";
            return false;
        }

        ReadOnlySpan<char> hostPart;
        ReadOnlySpan<char> portPart = default;
        bool hasPort = false;
        if (authority[0] == '[')
        {
            int close = authority.IndexOf(']');
            if (close < 0)
            {
                error = "unterminated IPv6 literal";
                return false;
            }

            hostPart = authority[..(close + 1)];
            var after = authority[(close + 1)..];
            if (!after.IsEmpty)
            {
                if (after[0] != ':')
                {
                    error = "unexpected text after IPv6 literal";
                    return false;
                }

                portPart = after[1..];
                hasPort = true;
            }
        }
        else
        {
            int colon = authority.IndexOf(':');
            hostPart = colon < 0 ? authority : authority[..colon];
            if (colon >= 0)
            {
                portPart = authority[(colon + 1)..];
                hasPort = true;
            }
        }

        int port = defaultPort;
        if (hasPort && !portPart.IsEmpty && !TryParsePort(portPart, out port, out error))
        {
            return false;
        }

        if (!HostCanonicalizer.TryCanonicalize(hostPart, out var host, out IPAddress? address, out error))
        {
            return false;
        }

        destination = new Destination(host, port, address);
        return true;
    }

    /// <summary>Default port of a special scheme, or -1 when the scheme is not special.</summary>
    public static int SpecialDefaultPort(ReadOnlySpan<char> scheme)
    {
        Span<char> lower = stackalloc char[8];
        if (scheme.Length > lower.Length)
        {
            return -1;
        }

        int n = scheme.ToLowerInvariant(lower);
        return lower[..n] switch
        {
            "http" or "ws" => 80,
            "https" or "wss" => 443,
            "ftp" => 21,
            "file" => 0,
            _ => -1,
        };
    }

    /// <summary>
    /// Whether <paramref name="scheme"/> is one whose URLs never name a host to connect to (IANA permanent and
    /// browser-internal schemes). Written by hand because WHATWG does not classify schemes beyond its special six:
    /// without the list, <c>mailto:a@b.example</c> reads as the bare <c>user:password@host</c> form.
    /// </summary>
    public static bool IsNonNetworkScheme(ReadOnlySpan<char> scheme)
    {
        Span<char> lower = stackalloc char[16];
        if (scheme.Length > lower.Length)
        {
            return false;
        }

        int n = scheme.ToLowerInvariant(lower);
        return lower[..n] switch
        {
            "about" or "blob" or "callto" or "cid" or "data" or "fax" or "file" or "filesystem" or "geo" or "intent"
                or "jar" or "javascript" or "magnet" or "mailto" or "mid" or "news" or "sms" or "tel" or "urn"
                or "vbscript" or "view-source" => true,
            _ => false,
        };
    }

    /// <summary>Length of a leading URL scheme (letters, digits, '+', '-', '.') followed by ':', else 0.</summary>
    private static int SchemeLength(ReadOnlySpan<char> input)
    {
        if (input.IsEmpty || !char.IsAsciiLetter(input[0]))
        {
            return 0;
        }

        for (int i = 1; i < input.Length; i++)
        {
            char c = input[i];
            if (c == ':')
            {
                return i;
            }

            if (!char.IsAsciiLetterOrDigit(c) && c != '+' && c != '-' && c != '.')
            {
                return 0;
            }
        }

        return 0;
    }

    private static bool TryParsePort(ReadOnlySpan<char> text, out int port, out string? error)
    {
        port = 0;
        error = null;
        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                error = "port is not a number";
                return false;
            }

            port = (port * 10) + (c - '0');
            if (port > 65535)
            {
                error = "port is out of range";
                return false;
            }
        }

        if (port == 0)
        {
            error = "port 0 is not a destination";
            return false;
        }

        return true;
    }

    private static ReadOnlySpan<char> RemoveTabsAndNewlines(ReadOnlySpan<char> input)
    {
        var buffer = new char[input.Length];
        int n = 0;
        foreach (char c in input)
        {
            if (c is not ('\t' or '\n' or '\r'))
            {
                buffer[n++] = c;
            }
        }

        return buffer.AsSpan(0, n);
    }
}

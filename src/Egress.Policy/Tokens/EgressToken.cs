using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Egress.Policy.Destinations;

namespace Egress.Policy.Tokens;

/// <summary>
/// One parsed allowlist token. The same grammar serves the environment, the lock file and every
/// enforcement point; parse with <see cref="TryParse"/>.
/// </summary>
public sealed record EgressToken
{
    /// <summary>Wildcard spellings that are never a match and make the configuration invalid.</summary>
    public static readonly IReadOnlyList<string> Wildcards = ["*", "all", "any"];

    private EgressToken(string text, EgressTokenKind kind, string value, int port, IPNetwork? network)
    {
        Text = text;
        Kind = kind;
        Value = value;
        Port = port;
        Network = network;
        AllowReason = $"allowed by {KindName(kind)} token '{text}'";
    }

    /// <summary>The token as written (trimmed, lower-cased).</summary>
    public string Text { get; }

    /// <summary>Which form the token has.</summary>
    public EgressTokenKind Kind { get; }

    /// <summary>The canonical keyword, domain or host (for IP networks, the network text).</summary>
    public string Value { get; }

    /// <summary>The port the token is limited to, or 0 for any port.</summary>
    public int Port { get; }

    /// <summary>The network for <see cref="EgressTokenKind.IPNetwork"/> tokens.</summary>
    public IPNetwork? Network { get; }

    /// <summary>The reason given when this token allows a destination (built once, so decisions allocate nothing).</summary>
    public string AllowReason { get; }

    /// <summary>
    /// Whether <paramref name="text"/> is a wildcard: <c>*</c>, <c>all</c>, <c>any</c>, or a /0 network
    /// (<c>0.0.0.0/0</c>, <c>::/0</c>), which would also allow loopback and cloud metadata addresses.
    /// </summary>
    public static bool IsWildcard(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        return t.Contains('*') || t.Equals("all", StringComparison.OrdinalIgnoreCase) || t.Equals("any", StringComparison.OrdinalIgnoreCase)
            || t.EndsWith("/0", StringComparison.Ordinal) || t.Contains("/0:", StringComparison.Ordinal) || t.Contains("/0]", StringComparison.Ordinal);
    }

    /// <summary>Parses one token; on failure <paramref name="error"/> says why. Never throws.</summary>
    public static bool TryParse(string? text, out EgressToken? token, out string? error)
    {
        token = null;
        error = null;
        var t = (text ?? string.Empty).Trim().ToLowerInvariant();
        if (t.Length == 0)
        {
            error = "empty token";
            return false;
        }

        if (t.Length > HostCanonicalizer.MaxInputLength)
        {
            error = "token is too long";
            return false;
        }

        if (t.AsSpan().IndexOfAnyInRange('\0', '\u001f') >= 0 || t.AsSpan().IndexOfAnyInRange('\u007f', '\u009f') >= 0)
        {
            // Checked first so that no message below echoes a control character into a log line.
            error = $"token '{Configuration.EgressOptionsReader.Printable(t)}' contains control characters";
            return false;
        }

        if (IsWildcard(t))
        {
            error = $"wildcard token '{t}' is not allowed: name the hosts instead";
            return false;
        }

        if (t[0] == '=')
        {
            return TryParseHostToken(t, t[1..], EgressTokenKind.ExactHost, out token, out error);
        }

        if (TryParseNetwork(t, out token, out error))
        {
            return true;
        }

        if (error is not null)
        {
            return false;
        }

        if (!t.Contains('.') && !t.Contains(':'))
        {
            return TryParseKeyword(t, out token, out error);
        }

        return TryParseHostToken(t, t, EgressTokenKind.Domain, out token, out error);
    }

    /// <inheritdoc />
    public override string ToString() => Text;

    private static string KindName(EgressTokenKind kind) => kind switch
    {
        EgressTokenKind.Keyword => "keyword",
        EgressTokenKind.Domain => "domain",
        EgressTokenKind.ExactHost => "exact-host",
        _ => "IP/CIDR",
    };

    private static bool TryParseKeyword(string t, out EgressToken? token, out string? error)
    {
        token = null;
        error = null;
        foreach (char c in t)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                error = $"keyword token '{t}' may hold only ASCII letters, digits, '-' and '_'";
                return false;
            }
        }

        token = new EgressToken(t, EgressTokenKind.Keyword, t, 0, null);
        return true;
    }

    private static bool TryParseHostToken(string text, string body, EgressTokenKind kind, out EgressToken? token, out string? error)
    {
        token = null;
        if (body.Contains('/') || body.Contains('@') || body.Contains('?') || body.Contains('#'))
        {
            error = $"token '{text}' must be a host, not a URL";
            return false;
        }

        if (!DestinationParser.TryParse(body, out var destination, out error))
        {
            error = $"token '{text}': {error}";
            return false;
        }

        if (destination.Address is { } address)
        {
            // "010.0.0.7" or "10.7" would silently mean another address than it seems to; tokens say it plainly.
            if (address.AddressFamily == AddressFamily.InterNetwork && !body.StartsWith('['))
            {
                int colon = body.IndexOf(':');
                var hostText = (colon < 0 ? body : body[..colon]).TrimEnd('.');
                if (hostText != destination.Host)
                {
                    error = $"token '{text}': write IPv4 addresses as dotted quads ('{hostText}' means {destination.Host})";
                    return false;
                }
            }

            // "=10.0.0.7" names an address: treat it as a single-address network token.
            int bits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
            token = new EgressToken(text, EgressTokenKind.IPNetwork, destination.Host, destination.Port, new IPNetwork(address, bits));
            return true;
        }

        token = new EgressToken(text, kind, destination.Host, destination.Port, null);
        return true;
    }

    /// <summary>IP, CIDR, with optional port. Returns false with error null when the text is not IP-shaped at all.</summary>
    private static bool TryParseNetwork(string t, out EgressToken? token, out string? error)
    {
        token = null;
        error = null;
        string body = t;
        int port = 0;
        if (t[0] == '[')
        {
            int close = t.IndexOf(']');
            if (close < 0)
            {
                error = $"token '{t}': unterminated IPv6 literal";
                return false;
            }

            body = t[1..close];
            var after = t[(close + 1)..];
            if (after.StartsWith('/'))
            {
                // "[2001:db8::]/32:443": prefix after the bracket.
                int colon = after.IndexOf(':');
                body += colon < 0 ? after : after[..colon];
                after = colon < 0 ? "" : after[colon..];
            }

            if (after.Length > 0 && (!after.StartsWith(':') || !TryPort(after[1..], out port)))
            {
                error = $"token '{t}': bad port";
                return false;
            }
        }
        else if (t.Count(c => c == ':') >= 2)
        {
            body = t; // bare IPv6 (no port possible without brackets)
        }
        else
        {
            int colon = t.IndexOf(':');
            body = colon < 0 ? t : t[..colon];
            if (!body.Contains('/'))
            {
                return false; // a single IPv4 address goes through the URL host parser like any destination
            }

            if (!IsDottedDecimalShape(body))
            {
                return false; // not an IPv4 CIDR; the host-token parser explains what is wrong
            }

            if (colon >= 0 && !TryPort(t[(colon + 1)..], out port))
            {
                error = $"token '{t}': bad port";
                return false;
            }
        }

        int slash = body.IndexOf('/');
        string addressText = slash < 0 ? body : body[..slash];
        if (!IPAddress.TryParse(addressText, out var address) || !IsCanonicalShape(addressText, address) || addressText.Contains('%'))
        {
            error = $"token '{t}': invalid IP address '{addressText}'";
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        int maxBits = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        int bits = maxBits;
        if (slash >= 0 && (!int.TryParse(body[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out bits) || bits > maxBits))
        {
            error = $"token '{t}': invalid prefix length";
            return false;
        }

        // The host bits must be zero; a token like 10.1.2.3/8 is a mistake worth naming.
        if (HasHostBits(address, bits))
        {
            error = $"token '{t}': the address has bits set beyond the /{bits} prefix";
            return false;
        }

        var network = new IPNetwork(address, bits);

        token = new EgressToken(t, EgressTokenKind.IPNetwork, network.ToString(), port, network);
        return true;
    }

    private static bool HasHostBits(IPAddress address, int prefixLength)
    {
        Span<byte> bytes = stackalloc byte[16];
        _ = address.TryWriteBytes(bytes, out int length);
        for (int bit = prefixLength; bit < length * 8; bit++)
        {
            if ((bytes[bit / 8] & (0x80 >> (bit % 8))) != 0)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsDottedDecimalShape(string s)
    {
        int slash = s.IndexOf('/');
        var a = slash < 0 ? s.AsSpan() : s.AsSpan(0, slash);
        if (a.IsEmpty || !char.IsAsciiDigit(a[^1]))
        {
            return false;
        }

        foreach (char c in a)
        {
            if (!char.IsAsciiDigit(c) && c != '.')
            {
                return false;
            }
        }

        return a.Contains('.');
    }

    // IPv4 tokens must be plain dotted quads: "10.1" or "012.0.0.1" would silently mean something else.
    private static bool IsCanonicalShape(string text, IPAddress address)
        => address.AddressFamily != AddressFamily.InterNetwork || address.ToString() == text;

    private static bool TryPort(string text, out int port)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535;
}

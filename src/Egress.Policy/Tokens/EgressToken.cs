using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Egress.Policy.Destinations;
using Egress.Policy.Domains;

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
    /// Whether <paramref name="text"/> is a wildcard: <c>*</c>, <c>all</c>, <c>any</c>, or a network with a
    /// /0 prefix however it is spelled (<c>0.0.0.0/0</c>, <c>::/00</c>, <c>[::/0]:443</c>), which would also
    /// allow loopback and cloud metadata addresses. Decided on the parsed prefix, not on the text.
    /// </summary>
    public static bool IsWildcard(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().ToLowerInvariant();
        return t.Contains('*') || t is "all" or "any" || t.TrimStart('=') is "all" or "any"
            || (NetworkShape.TrySplit(t.TrimStart('='), out var shape, out _) && shape.PrefixValue == 0);
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
            error = t.Contains('/')
                ? $"wildcard token '{t}' is not allowed: a /0 network allows every address, loopback and cloud metadata included; name the hosts instead"
                : $"wildcard token '{t}' is not allowed: name the hosts instead";
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

        if (PortText(body) is { } portText && !TryPort(portText, out _, out error))
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

        if (kind == EgressTokenKind.Domain && destination.Host != "localhost" && RegistrableDomain.IsPublicSuffix(destination.Host))
        {
            // "com.", "co.uk", "github.io": a domain token there allows every party's hosts under it.
            error = $"token '{text}' covers the public suffix '{destination.Host}' (a top-level domain, a shared registry or hosting suffix, or a single-label name): "
                + $"it would allow every party's hosts under it; name a registrable domain under it (e.g. 'example.{destination.Host}') or this one host ('={destination.Host}')";
            return false;
        }

        token = new EgressToken(text, kind, destination.Host, destination.Port, null);
        return true;
    }

    /// <summary>The port text of a host token (after the last ':' outside brackets), or null when there is none.</summary>
    private static string? PortText(string body)
    {
        int from = body.StartsWith('[') ? Math.Max(0, body.IndexOf(']')) : 0;
        int colon = body.IndexOf(':', from);
        return colon < 0 ? null : body[(colon + 1)..];
    }

    /// <summary>IP, CIDR, with optional port. Returns false with error null when the text is not IP-shaped at all.</summary>
    private static bool TryParseNetwork(string t, out EgressToken? token, out string? error)
    {
        token = null;
        if (!NetworkShape.TrySplit(t, out var shape, out error))
        {
            return false;
        }

        if (shape.PortText is { } portText && !TryPort(portText, out _, out error))
        {
            error = $"token '{t}': {error}";
            return false;
        }

        int port = shape.PortText is null ? 0 : int.Parse(shape.PortText, NumberStyles.None, CultureInfo.InvariantCulture);
        string addressText = shape.AddressText;
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
        if (shape.PrefixText is { } prefixText)
        {
            if (shape.PrefixValue is not { } value || value > maxBits)
            {
                error = $"token '{t}': invalid prefix length '/{prefixText}' (0-{maxBits} digits only)";
                return false;
            }

            if (prefixText.Length > 1 && prefixText[0] == '0')
            {
                // "/08" and "/00" parse, but a reviewer (and a text check) reads them as something else.
                error = $"token '{t}': prefix length '/{prefixText}' has a leading zero; write '/{value}'";
                return false;
            }

            bits = value;
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

    // IPv4 tokens must be plain dotted quads: "10.1" or "012.0.0.1" would silently mean something else.
    private static bool IsCanonicalShape(string text, IPAddress address)
        => address.AddressFamily != AddressFamily.InterNetwork || address.ToString() == text;

    private static bool TryPort(string text, out int port, out string? error)
    {
        error = null;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is <= 0 or > 65535)
        {
            error = $"bad port '{text}' (1-65535)";
            return false;
        }

        if (text[0] == '0')
        {
            error = $"port '{text}' has a leading zero; write '{port}'";
            return false;
        }

        return true;
    }
}

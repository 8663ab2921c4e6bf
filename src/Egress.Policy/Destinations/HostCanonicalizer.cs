using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Egress.Policy.Destinations;

/// <summary>
/// Canonicalises a host the way the WHATWG URL Standard's host parser does for special schemes, and a
/// little stricter (empty labels, labels over 63 and names over 253 octets are rejected).
/// </summary>
public static class HostCanonicalizer
{
    /// <summary>Longest host text we look at at all; longer input is rejected before any work.</summary>
    public const int MaxInputLength = 2048;

    private static readonly IdnMapping Idn = new() { AllowUnassigned = false, UseStd3AsciiRules = false };

    // Full stops UTS-46 maps to '.': ideographic, fullwidth and halfwidth ideographic.
    private static readonly char[] IdeographicDots = ['.', '\u3002', '\uFF0E', '\uFF61'];

    // Code points UTS-46 maps to nothing ("ignored"), within the BMP.
    private static readonly SearchValues<char> Ignored = SearchValues.Create(
        "\u00AD\u034F\u180B\u180C\u180D\u180F\u200B\u2060\u2064\uFE00\uFE01\uFE02\uFE03\uFE04\uFE05\uFE06\uFE07\uFE08\uFE09\uFE0A\uFE0B\uFE0C\uFE0D\uFE0E\uFE0F\uFEFF");

    // WHATWG "forbidden domain code point": forbidden host code points, C0 controls, '%' and DEL.
    private static readonly SearchValues<char> ForbiddenDomain = SearchValues.Create(
        "\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f" +
        " #%/:<>?@[\\]^|\u007f");

    /// <summary>
    /// Canonicalises <paramref name="input"/> (a host without port; IPv6 in brackets). Never throws.
    /// </summary>
    /// <param name="input">The host as it appears in a URL authority.</param>
    /// <param name="host">The canonical host on success.</param>
    /// <param name="address">The IP address when the host is an IP literal.</param>
    /// <param name="error">Why the host was rejected.</param>
    public static bool TryCanonicalize(ReadOnlySpan<char> input, out string host, out IPAddress? address, out string? error)
    {
        host = string.Empty;
        address = null;
        error = null;
        if (input.IsEmpty)
        {
            error = "empty host";
            return false;
        }

        if (input.Length > MaxInputLength)
        {
            error = "host is too long";
            return false;
        }

        if (input[0] == '[')
        {
            return TryParseIPv6(input, out host, out address, out error);
        }

        // Percent-decode, then UTF-8 decode; malformed UTF-8 cannot name a host.
        string decoded;
        if (input.Contains('%'))
        {
            if (!TryPercentDecode(input, out decoded))
            {
                error = "host has invalid percent-encoding";
                return false;
            }
        }
        else
        {
            decoded = input.ToString();
        }

        if (!TryDomainToAscii(decoded, out var ascii, out error))
        {
            return false;
        }

        if (ascii.AsSpan().IndexOfAny(ForbiddenDomain) >= 0)
        {
            error = "host contains a forbidden character";
            return false;
        }

        if (Ipv4Parser.EndsInANumber(ascii))
        {
            if (!Ipv4Parser.TryParse(ascii, out uint v4, out error))
            {
                return false;
            }

            address = new IPAddress(BitConverter.IsLittleEndian ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v4) : v4);
            host = address.ToString();
            return true;
        }

        if (ascii.EndsWith('.'))
        {
            ascii = ascii[..^1];
        }

        if (!IsValidDnsShape(ascii, out error))
        {
            return false;
        }

        host = ascii;
        return true;
    }

    /// <summary>Canonicalises and returns the host, or <see langword="null"/> when it is invalid.</summary>
    public static string? Canonicalize(string input)
        => TryCanonicalize(input, out var host, out _, out _) ? host : null;

    /// <summary>Formats an address as a canonical host (IPv4-mapped IPv6 as IPv4, IPv6 bracketed).</summary>
    public static string FormatAddress(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        return address.AddressFamily == AddressFamily.InterNetworkV6 ? "[" + FormatIPv6(address) + "]" : address.ToString();
    }

    /// <summary>
    /// The WHATWG IPv6 serializer (also RFC 5952): lower-case hex pieces, the first longest run of two or more
    /// zero pieces compressed to <c>::</c>, never a dotted IPv4 tail (.NET prints <c>::1.2.3.4</c>).
    /// </summary>
    private static string FormatIPv6(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        _ = address.TryWriteBytes(bytes, out _);
        Span<int> pieces = stackalloc int[8];
        for (int i = 0; i < 8; i++)
        {
            pieces[i] = (bytes[2 * i] << 8) | bytes[(2 * i) + 1];
        }

        int bestStart = -1, bestLength = 1;
        for (int i = 0; i < 8;)
        {
            if (pieces[i] != 0)
            {
                i++;
                continue;
            }

            int start = i;
            while (i < 8 && pieces[i] == 0)
            {
                i++;
            }

            if (i - start > bestLength)
            {
                bestStart = start;
                bestLength = i - start;
            }
        }

        var sb = new StringBuilder(39);
        for (int i = 0; i < 8; i++)
        {
            if (i == bestStart)
            {
                sb.Append(i == 0 ? "::" : ":");
                i += bestLength - 1;
                continue;
            }

            sb.Append(pieces[i].ToString("x", CultureInfo.InvariantCulture));
            if (i < 7)
            {
                sb.Append(':');
            }
        }

        return sb.ToString();
    }

    private static bool TryParseIPv6(ReadOnlySpan<char> input, out string host, out IPAddress? address, out string? error)
    {
        host = string.Empty;
        address = null;
        error = null;
        if (input.Length < 3 || input[^1] != ']')
        {
            error = "unterminated IPv6 literal";
            return false;
        }

        var inner = input[1..^1];
        // Only hex digits, ':' and '.' (embedded IPv4); no zone identifiers, as in the URL Standard.
        foreach (char c in inner)
        {
            if (!char.IsAsciiHexDigit(c) && c != ':' && c != '.')
            {
                error = "invalid IPv6 literal";
                return false;
            }
        }

        if (!IPAddress.TryParse(inner, out var parsed) || parsed.AddressFamily != AddressFamily.InterNetworkV6)
        {
            error = "invalid IPv6 literal";
            return false;
        }

        address = parsed.IsIPv4MappedToIPv6 ? parsed.MapToIPv4() : parsed;
        host = FormatAddress(address);
        return true;
    }

    private static bool TryPercentDecode(ReadOnlySpan<char> input, out string decoded)
    {
        decoded = string.Empty;
        var bytes = new List<byte>(input.Length);
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < input.Length; i++)
        {
            char c = input[i];
            if (c == '%' && i + 2 < input.Length && char.IsAsciiHexDigit(input[i + 1]) && char.IsAsciiHexDigit(input[i + 2]))
            {
                bytes.Add((byte)((HexValue(input[i + 1]) << 4) | HexValue(input[i + 2])));
                i += 2;
                continue;
            }

            // A '%' not followed by two hex digits stays literal (as in WHATWG) and is rejected later as forbidden.
            if (Rune.DecodeFromUtf16(input[i..], out var rune, out int consumed) != OperationStatus.Done)
            {
                return false;
            }

            int n = rune.EncodeToUtf8(utf8);
            for (int k = 0; k < n; k++)
            {
                bytes.Add(utf8[k]);
            }

            i += consumed - 1;
        }

        try
        {
            decoded = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes.ToArray());
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    private static bool TryDomainToAscii(string domain, out string ascii, out string? error)
    {
        error = null;
        bool isAscii = Ascii.IsValid(domain);
        if (isAscii && !ContainsPunycodeLabel(domain))
        {
            // UTS-46 mapping of ASCII (without STD3 rules) is lower-casing; skip the IDNA machinery.
            ascii = domain.ToLowerInvariant();
            return true;
        }

        ascii = string.Empty;
        try
        {
            // UTS-46 non-transitional processing, label by label. The ideographic and fullwidth full stops are
            // label separators; mapping (ICU, through IdnMapping) happens per hyphen-separated piece because ICU
            // also enforces the hyphen rules WHATWG turns off; the mapped label is then Punycode-encoded here.
            var mapped = new StringBuilder(domain.Length);
            foreach (var label in domain.Split(IdeographicDots))
            {
                MapLabel(label, mapped);
                mapped.Append('.');
            }

            mapped.Length--; // the separator after the last label
            var labels = mapped.ToString().Split('.');
            for (int i = 0; i < labels.Length; i++)
            {
                string label = labels[i];
                if (!Ascii.IsValid(label))
                {
                    if (!Punycode.TryEncode(label, out var encoded))
                    {
                        error = "host is not a valid internationalised domain name";
                        return false;
                    }

                    labels[i] = "xn--" + encoded;
                }
                else if (label.StartsWith("xn--", StringComparison.Ordinal) && !IsValidPunycodeLabel(label))
                {
                    error = "host is not a valid internationalised domain name";
                    return false;
                }
            }

            ascii = string.Join('.', labels);
            return true;
        }
        catch (ArgumentException)
        {
            error = HasOverlongLabel(domain) ? "host has a label longer than 63 octets" : "host is not a valid internationalised domain name";
            ascii = string.Empty;
            return false;
        }
    }

    /// <summary>UTS-46-maps one label into <paramref name="output"/>; throws <see cref="ArgumentException"/> when it is invalid.</summary>
    private static void MapLabel(string label, StringBuilder output)
    {
        if (Ascii.IsValid(label))
        {
            output.Append(label.ToLowerInvariant());
            return;
        }

        var pieces = label.Split('-');
        for (int i = 0; i < pieces.Length; i++)
        {
            if (i > 0)
            {
                output.Append('-');
            }

            var piece = RemoveIgnored(pieces[i]);
            // GetAscii maps (case folding, width, compatibility) and validates; GetUnicode gives the mapped label back.
            output.Append(piece.Length == 0 || Ascii.IsValid(piece) ? piece.ToLowerInvariant() : Idn.GetUnicode(Idn.GetAscii(piece)));
        }
    }

    /// <summary>
    /// A Punycode label is valid when it decodes to a non-ASCII label that UTS-46 mapping leaves unchanged and
    /// that encodes back to the same text (so one host has one spelling).
    /// </summary>
    private static bool IsValidPunycodeLabel(string label)
    {
        if (!Punycode.TryDecode(label[4..], out var decoded) || Ascii.IsValid(decoded)
            || !Punycode.TryEncode(decoded, out var again) || !label.AsSpan(4).SequenceEqual(again))
        {
            return false;
        }

        var mapped = new StringBuilder(decoded.Length);
        MapLabel(decoded, mapped); // throws ArgumentException for disallowed code points
        return mapped.Equals(decoded.AsSpan());
    }

    /// <summary>Drops the code points UTS-46 maps to nothing (soft hyphen, zero-width space, variation selectors, BOM…).</summary>
    private static string RemoveIgnored(string piece)
    {
        if (piece.AsSpan().IndexOfAny(Ignored) < 0)
        {
            return piece;
        }

        var sb = new StringBuilder(piece.Length);
        foreach (char c in piece)
        {
            if (!Ignored.Contains(c))
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    /// <summary>Whether a label of <paramref name="domain"/> is longer than 63 octets once encoded (why IDNA may have failed).</summary>
    private static bool HasOverlongLabel(string domain)
    {
        foreach (var label in domain.Split(IdeographicDots))
        {
            var lower = RemoveIgnored(label).ToLowerInvariant();
            int length = Ascii.IsValid(lower) ? lower.Length : Punycode.TryEncode(lower, out var encoded) ? encoded.Length + 4 : 0;
            if (length > 63)
            {
                return true;
            }
        }

        return false;
    }

    private static bool ContainsPunycodeLabel(string domain)
        => domain.StartsWith("xn--", StringComparison.OrdinalIgnoreCase)
           || domain.Contains(".xn--", StringComparison.OrdinalIgnoreCase);

    private static bool IsValidDnsShape(string host, out string? error)
    {
        error = null;
        if (host.Length == 0)
        {
            error = "empty host";
            return false;
        }

        if (host.Length > 253)
        {
            error = "host name is longer than 253 octets";
            return false;
        }

        int labelStart = 0;
        for (int i = 0; i <= host.Length; i++)
        {
            if (i == host.Length || host[i] == '.')
            {
                int len = i - labelStart;
                if (len == 0)
                {
                    error = "host has an empty label";
                    return false;
                }

                if (len > 63)
                {
                    error = "host has a label longer than 63 octets";
                    return false;
                }

                labelStart = i + 1;
            }
        }

        return true;
    }
}

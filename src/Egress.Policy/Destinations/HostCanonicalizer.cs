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

        if (!Uts46.TryDomainToAscii(decoded, out var ascii, out error))
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

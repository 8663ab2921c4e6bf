using System.Globalization;
using System.Net;

namespace Egress.Isolation.Dns;

/// <summary>
/// Reverse-lookup names (RFC 1035 §3.5 <c>in-addr.arpa</c>, RFC 3596 §2.5 <c>ip6.arpa</c>): which names are
/// reverse names at all, and the address an exact one stands for. Strict, by hand (a few lines; no library
/// reads them without resolving): four decimal octets without leading zeros, or 32 single hex nibbles.
/// </summary>
internal static class ReverseName
{
    private const string IPv4Suffix = ".in-addr.arpa";
    private const string IPv6Suffix = ".ip6.arpa";

    /// <summary>Whether <paramref name="name"/> (lower case, no trailing dot) is under <c>in-addr.arpa</c> or <c>ip6.arpa</c>.</summary>
    public static bool IsReverse(string name) =>
        name.EndsWith(IPv4Suffix, StringComparison.Ordinal) || name.EndsWith(IPv6Suffix, StringComparison.Ordinal)
        || name is "in-addr.arpa" or "ip6.arpa";

    /// <summary>The address an exact reverse name stands for (<c>4.3.2.1.in-addr.arpa</c> → 1.2.3.4); false for any other name.</summary>
    public static bool TryParse(string name, out IPAddress? address)
    {
        ArgumentNullException.ThrowIfNull(name);
        address = null;
        if (name.EndsWith(IPv4Suffix, StringComparison.Ordinal))
        {
            var labels = name[..^IPv4Suffix.Length].Split('.');
            if (labels.Length != 4)
            {
                return false;
            }

            Span<byte> bytes = stackalloc byte[4];
            for (int i = 0; i < 4; i++)
            {
                string label = labels[3 - i];
                if (label.Length is 0 or > 3 || (label.Length > 1 && label[0] == '0')
                    || !byte.TryParse(label, NumberStyles.None, CultureInfo.InvariantCulture, out bytes[i]))
                {
                    return false;
                }
            }

            address = new IPAddress(bytes);
            return true;
        }

        if (name.EndsWith(IPv6Suffix, StringComparison.Ordinal))
        {
            string nibbles = name[..^IPv6Suffix.Length];
            if (nibbles.Length != 63)
            {
                return false;
            }

            Span<byte> bytes = stackalloc byte[16];
            for (int i = 0; i < 32; i++)
            {
                char c = nibbles[2 * i];
                if ((i < 31 && nibbles[(2 * i) + 1] != '.') || !char.IsAsciiHexDigitLower(c))
                {
                    return false;
                }

                int value = char.IsAsciiDigit(c) ? c - '0' : c - 'a' + 10;
                int nibble = 31 - i; // the first label is the lowest nibble
                bytes[nibble / 2] |= (byte)((nibble % 2 == 0) ? value << 4 : value);
            }

            address = new IPAddress(bytes);
            return true;
        }

        return false;
    }

    /// <summary>The reverse name of <paramref name="address"/> (for tests and messages).</summary>
    public static string Of(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var bytes = address.GetAddressBytes();
        if (bytes.Length == 4)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{bytes[3]}.{bytes[2]}.{bytes[1]}.{bytes[0]}{IPv4Suffix}");
        }

        var sb = new System.Text.StringBuilder(72);
        for (int i = 15; i >= 0; i--)
        {
            sb.Append("0123456789abcdef"[bytes[i] & 0xF]).Append('.').Append("0123456789abcdef"[bytes[i] >> 4]).Append('.');
        }

        return sb.Append(IPv6Suffix.AsSpan(1)).ToString();
    }
}

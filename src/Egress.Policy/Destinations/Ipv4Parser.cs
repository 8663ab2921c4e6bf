using System.Net;

namespace Egress.Policy.Destinations;

/// <summary>
/// The WHATWG IPv4 parser: one to four parts in decimal, octal (leading 0) or hex (0x), the last part
/// filling the remaining bytes. Written by hand on purpose: <see cref="IPAddress.TryParse(string, out IPAddress)"/>
/// accepts forms the URL Standard does not, and we must agree with what a browser or curl connects to.
/// </summary>
internal static class Ipv4Parser
{
    /// <summary>Whether the WHATWG "ends in a number" rule sends <paramref name="host"/> to the IPv4 parser.</summary>
    public static bool EndsInANumber(ReadOnlySpan<char> host)
    {
        if (host.Length > 0 && host[^1] == '.')
        {
            host = host[..^1];
        }

        int dot = host.LastIndexOf('.');
        var last = dot < 0 ? host : host[(dot + 1)..];
        if (last.Length == 0)
        {
            return false;
        }

        if (IsAllDigits(last))
        {
            return true;
        }

        return last.Length >= 2 && last[0] == '0' && (last[1] | 0x20) == 'x' && IsAllHex(last[2..]);
    }

    /// <summary>Parses <paramref name="host"/> as IPv4; false with a reason when it is malformed or out of range.</summary>
    public static bool TryParse(ReadOnlySpan<char> host, out uint address, out string? error)
    {
        address = 0;
        error = null;
        if (host.Length > 0 && host[^1] == '.')
        {
            host = host[..^1];
        }

        Span<ulong> parts = stackalloc ulong[4];
        int count = 0;
        while (true)
        {
            int dot = host.IndexOf('.');
            var part = dot < 0 ? host : host[..dot];
            if (count == 4)
            {
                error = "IPv4 address has more than four parts";
                return false;
            }

            if (!TryParsePart(part, out parts[count]))
            {
                error = "IPv4 address has a malformed part";
                return false;
            }

            count++;
            if (dot < 0)
            {
                break;
            }

            host = host[(dot + 1)..];
        }

        for (int i = 0; i < count - 1; i++)
        {
            if (parts[i] > 255)
            {
                error = "IPv4 address part out of range";
                return false;
            }
        }

        ulong limit = 1UL << (8 * (5 - count));
        if (parts[count - 1] >= limit)
        {
            error = "IPv4 address out of range";
            return false;
        }

        ulong value = parts[count - 1];
        for (int i = 0; i < count - 1; i++)
        {
            value += parts[i] << (8 * (3 - i));
        }

        address = (uint)value;
        return true;
    }

    private static bool TryParsePart(ReadOnlySpan<char> part, out ulong value)
    {
        value = 0;
        if (part.IsEmpty)
        {
            return false;
        }

        int radix = 10;
        if (part.Length >= 2 && part[0] == '0' && (part[1] | 0x20) == 'x')
        {
            radix = 16;
            part = part[2..];
        }
        else if (part.Length >= 2 && part[0] == '0')
        {
            radix = 8;
            part = part[1..];
        }

        foreach (char c in part)
        {
            int digit = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'f' => c - 'a' + 10,
                >= 'A' and <= 'F' => c - 'A' + 10,
                _ => 99,
            };
            if (digit >= radix)
            {
                return false;
            }

            value = (value * (ulong)radix) + (ulong)digit;
            if (value > uint.MaxValue)
            {
                // Saturate: anything this large is out of range in every position.
                value = (ulong)uint.MaxValue + 1;
            }
        }

        return true;
    }

    private static bool IsAllDigits(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsAllHex(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}

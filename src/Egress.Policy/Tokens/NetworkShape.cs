namespace Egress.Policy.Tokens;

/// <summary>
/// The parts of an IP/CIDR token as written — address, prefix and port text — before any of them is
/// validated. Both the parser and the wildcard check read the prefix from here, so "/0" is recognised
/// however it is spelled ("/00", "[::/00]:443").
/// </summary>
internal readonly record struct NetworkShape(string AddressText, string? PrefixText, string? PortText)
{
    /// <summary>The prefix length's value (leading zeros ignored), or null when absent or not a small decimal number.</summary>
    public int? PrefixValue
    {
        get
        {
            var p = PrefixText.AsSpan();
            if (p.IsEmpty || p.ContainsAnyExceptInRange('0', '9'))
            {
                return null;
            }

            var digits = p.TrimStart('0');
            return digits.Length > 3 ? null : digits.IsEmpty ? 0 : int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>
    /// Splits a lower-cased token that looks like an IP or CIDR. Returns false with <paramref name="error"/>
    /// null when it does not (a host name, or a single IPv4 address, which the host parser reads), and with
    /// an error when it is IP-shaped but malformed.
    /// </summary>
    public static bool TrySplit(string t, out NetworkShape shape, out string? error)
    {
        shape = default;
        error = null;
        if (t.Length == 0)
        {
            return false;
        }

        string body;
        string? port = null;
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
                after = colon < 0 ? string.Empty : after[colon..];
            }

            if (after.Length > 0)
            {
                if (!after.StartsWith(':'))
                {
                    error = $"token '{t}': bad port (expected ':PORT' after ']')";
                    return false;
                }

                port = after[1..];
            }
        }
        else if (t.AsSpan().Count(':') >= 2)
        {
            body = t; // bare IPv6 (no port possible without brackets)
        }
        else
        {
            int colon = t.IndexOf(':');
            body = colon < 0 ? t : t[..colon];
            if (!body.Contains('/') || !IsDottedDecimalShape(body))
            {
                return false; // a single IPv4 address or a host name: the host-token parser reads it
            }

            port = colon < 0 ? null : t[(colon + 1)..];
        }

        int slash = body.IndexOf('/');
        shape = slash < 0
            ? new NetworkShape(body, null, port)
            : new NetworkShape(body[..slash], body[(slash + 1)..], port);
        return true;
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
}

using System.Text;

namespace Egress.Policy.Destinations;

/// <summary>
/// RFC 3492 Punycode encoding of one already UTS-46-mapped label. Used instead of <see cref="System.Globalization.IdnMapping.GetAscii(string)"/>
/// for the final encoding step, because ICU (through IdnMapping) also applies the hyphen checks that the
/// WHATWG URL Standard turns off (<c>CheckHyphens=false</c>).
/// </summary>
internal static class Punycode
{
    private const int Base = 36, TMin = 1, TMax = 26, Skew = 38, Damp = 700, InitialBias = 72, InitialN = 128;

    /// <summary>Encodes <paramref name="label"/> (without the <c>xn--</c> prefix); false on overflow or invalid UTF-16.</summary>
    public static bool TryEncode(string label, out string encoded)
    {
        encoded = string.Empty;
        var codePoints = new List<int>(label.Length);
        foreach (var rune in label.EnumerateRunes())
        {
            if (rune == Rune.ReplacementChar && !label.Contains('\uFFFD', StringComparison.Ordinal))
            {
                return false; // a lone surrogate
            }

            codePoints.Add(rune.Value);
        }

        var output = new StringBuilder(label.Length + 8);
        foreach (int cp in codePoints)
        {
            if (cp < 0x80)
            {
                output.Append((char)cp);
            }
        }

        int basic = output.Length;
        int handled = basic;
        if (basic > 0)
        {
            output.Append('-');
        }

        long n = InitialN, delta = 0;
        int bias = InitialBias;
        while (handled < codePoints.Count)
        {
            long m = long.MaxValue;
            foreach (int cp in codePoints)
            {
                if (cp >= n && cp < m)
                {
                    m = cp;
                }
            }

            delta += (m - n) * (handled + 1);
            if (delta > int.MaxValue)
            {
                return false;
            }

            n = m;
            foreach (int cp in codePoints)
            {
                if (cp < n)
                {
                    delta++;
                }
                else if (cp == n)
                {
                    long q = delta;
                    for (int k = Base; ; k += Base)
                    {
                        int t = k <= bias ? TMin : k >= bias + TMax ? TMax : k - bias;
                        if (q < t)
                        {
                            break;
                        }

                        output.Append(Digit((int)(t + ((q - t) % (Base - t)))));
                        q = (q - t) / (Base - t);
                    }

                    output.Append(Digit((int)q));
                    bias = Adapt(delta, handled + 1, handled == basic);
                    delta = 0;
                    handled++;
                }
            }

            delta++;
            n++;
        }

        encoded = output.ToString();
        return true;
    }

    /// <summary>Decodes <paramref name="encoded"/> (without the <c>xn--</c> prefix); false when it is not valid Punycode.</summary>
    public static bool TryDecode(string encoded, out string decoded)
    {
        decoded = string.Empty;
        int delimiter = encoded.LastIndexOf('-');
        var output = new List<int>(encoded.Length);
        for (int j = 0; j < Math.Max(0, delimiter); j++)
        {
            if (encoded[j] >= 0x80)
            {
                return false;
            }

            output.Add(encoded[j]);
        }

        long n = InitialN, i = 0;
        int bias = InitialBias;
        for (int pos = delimiter > 0 ? delimiter + 1 : 0; pos < encoded.Length;)
        {
            long oldi = i, w = 1;
            for (int k = Base; ; k += Base)
            {
                if (pos >= encoded.Length)
                {
                    return false;
                }

                int digit = DecodeDigit(encoded[pos++]);
                if (digit < 0)
                {
                    return false;
                }

                i += digit * w;
                int t = k <= bias ? TMin : k >= bias + TMax ? TMax : k - bias;
                if (i > int.MaxValue)
                {
                    return false;
                }

                if (digit < t)
                {
                    break;
                }

                w *= Base - t;
            }

            bias = Adapt(i - oldi, output.Count + 1, oldi == 0);
            n += i / (output.Count + 1);
            i %= output.Count + 1;
            if (n > 0x10FFFF || (n >= 0xD800 && n <= 0xDFFF))
            {
                return false;
            }

            output.Insert((int)i, (int)n);
            i++;
        }

        var sb = new StringBuilder(output.Count);
        foreach (int cp in output)
        {
            sb.Append(char.ConvertFromUtf32(cp));
        }

        decoded = sb.ToString();
        return true;
    }

    private static int DecodeDigit(char c) => c switch
    {
        >= 'a' and <= 'z' => c - 'a',
        >= 'A' and <= 'Z' => c - 'A',
        >= '0' and <= '9' => c - '0' + 26,
        _ => -1,
    };

    private static char Digit(int d) => (char)(d < 26 ? 'a' + d : '0' + (d - 26));

    private static int Adapt(long delta, int points, bool first)
    {
        delta = first ? delta / Damp : delta / 2;
        delta += delta / points;
        int k = 0;
        while (delta > ((Base - TMin) * TMax) / 2)
        {
            delta /= Base - TMin;
            k += Base;
        }

        return (int)(k + (((Base - TMin + 1) * delta) / (delta + Skew)));
    }
}

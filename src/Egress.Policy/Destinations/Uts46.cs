using System.Buffers;
using System.Globalization;
using System.Text;

namespace Egress.Policy.Destinations;

/// <summary>
/// UTS-46 (IDNA) processing of a domain as the WHATWG URL Standard asks for it: non-transitional, no STD3
/// rules, no hyphen checks, no DNS length checks (the caller applies its own). ICU (through
/// <see cref="IdnMapping"/>) maps and validates hyphen-free pieces; Punycode is encoded and decoded here.
/// </summary>
internal static class Uts46
{
    private static readonly IdnMapping Idn = new() { AllowUnassigned = false, UseStd3AsciiRules = false };

    /// <summary>
    /// Whether <see cref="IdnMapping"/> really maps (ICU is loaded). In globalization-invariant mode
    /// (<c>DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1</c>, <c>InvariantGlobalization</c>, common in slim container
    /// images) it Punycode-encodes without case folding or compatibility mapping, so <c>BÜCHER.example</c> would
    /// become a different host than <c>bücher.example</c>: every name that needs IDNA is refused instead.
    /// </summary>
    private static readonly bool MappingAvailable = ProbeMapping();

    /// <summary>The error for a name that needs IDNA when <see cref="MappingAvailable"/> is false.</summary>
    internal const string NoMappingError =
        "internationalised domain names need ICU, but this process runs in .NET globalization-invariant mode " +
        "(DOTNET_SYSTEM_GLOBALIZATION_INVARIANT or InvariantGlobalization); unset it to decide this host";

    // Full stops UTS-46 maps to '.': ideographic, fullwidth and halfwidth ideographic.
    private static readonly char[] IdeographicDots = ['.', '\u3002', '\uFF0E', '\uFF61'];

    // Code points UTS-46 maps to nothing ("ignored"), within the BMP.
    private static readonly SearchValues<char> Ignored = SearchValues.Create(
        "\u00AD\u034F\u180B\u180C\u180D\u180F\u200B\u2060\u2064\uFE00\uFE01\uFE02\uFE03\uFE04\uFE05\uFE06\uFE07\uFE08\uFE09\uFE0A\uFE0B\uFE0C\uFE0D\uFE0E\uFE0F\uFEFF");

    /// <summary>Maps <paramref name="domain"/> to lower-case ASCII (Punycode) by UTS-46 non-transitional processing.</summary>
    public static bool TryDomainToAscii(string domain, out string ascii, out string? error)
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
        if (!MappingAvailable)
        {
            error = NoMappingError;
            return false;
        }

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

    private static bool ProbeMapping()
    {
        try
        {
            // Case folding is the mapping invariant mode lacks: "Ä" must map to "ä" (xn--4ca).
            return Idn.GetAscii("\u00C4") == "xn--4ca";
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static bool ContainsPunycodeLabel(string domain)
        => domain.StartsWith("xn--", StringComparison.OrdinalIgnoreCase)
           || domain.Contains(".xn--", StringComparison.OrdinalIgnoreCase);
}

namespace Egress.Policy;

/// <summary>
/// The one routine that makes untrusted text (tokens, hosts, paths, reasons from the environment, lock files and
/// journals) safe to print on a line of human output: control characters become <c>?</c>, so no value can break
/// a line or forge another, and a line that would start a GitHub Actions workflow command (<c>::error::…</c>,
/// after leading spaces) has those colons percent-encoded the way annotation data is escaped (<c>%3A%3A</c>).
/// </summary>
public static class SafeText
{
    /// <summary><paramref name="text"/> safe for one output line.</summary>
    public static string Line(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.AsSpan().ContainsAnyInRange('\0', '\u001f') || text.AsSpan().ContainsAnyInRange('\u007f', '\u009f'))
        {
            text = string.Create(text.Length, text, static (span, src) =>
            {
                for (int i = 0; i < src.Length; i++)
                {
                    span[i] = char.IsControl(src[i]) ? '?' : src[i];
                }
            });
        }

        var trimmed = text.AsSpan().TrimStart();
        if (trimmed.StartsWith("::", StringComparison.Ordinal))
        {
            int at = text.Length - trimmed.Length;
            return string.Concat(text.AsSpan(0, at), "%3A%3A", trimmed[2..]);
        }

        return text;
    }

    /// <summary>Printable ASCII only (others become <c>?</c>), at most <paramref name="max"/> characters: for header values.</summary>
    public static string Ascii(string text, int max)
    {
        ArgumentNullException.ThrowIfNull(text);
        var chars = new char[Math.Min(text.Length, max)];
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = text[i] is >= ' ' and <= '~' ? text[i] : '?';
        }

        return new string(chars);
    }
}

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
        text = ReplaceControls(text, keepLineBreaks: false);
        var trimmed = text.AsSpan().TrimStart();
        if (trimmed.StartsWith("::", StringComparison.Ordinal))
        {
            int at = text.Length - trimmed.Length;
            return string.Concat(text.AsSpan(0, at), "%3A%3A", trimmed[2..]);
        }

        return text;
    }

    /// <summary>
    /// <paramref name="text"/> with every control character replaced by <c>?</c>; with
    /// <paramref name="keepLineBreaks"/>, CR and LF are kept for a writer that escapes them itself (the
    /// workflow-command writer percent-encodes them).
    /// </summary>
    public static string ReplaceControls(string text, bool keepLineBreaks)
    {
        ArgumentNullException.ThrowIfNull(text);
        var span = text.AsSpan();
        bool any = keepLineBreaks
            ? span.ContainsAnyInRange('\0', '\u0009') || span.ContainsAnyInRange('\u000b', '\u000c') || span.ContainsAnyInRange('\u000e', '\u001f')
            : span.ContainsAnyInRange('\0', '\u001f');
        if (!any && !span.ContainsAnyInRange('\u007f', '\u009f'))
        {
            return text;
        }

        return string.Create(text.Length, (text, keepLineBreaks), static (chars, state) =>
        {
            var (src, keep) = state;
            for (int i = 0; i < src.Length; i++)
            {
                char c = src[i];
                chars[i] = char.IsControl(c) && !(keep && c is '\r' or '\n') ? '?' : c;
            }
        });
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

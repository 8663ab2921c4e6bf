namespace Egress.Cli.Tests.Docs;

/// <summary>Finds the shell blocks of Markdown text and the markers around them (the convention is in docs/CONTRIBUTING.md).</summary>
public static class DocBlocks
{
    /// <summary>Fence languages that are shell commands.</summary>
    public static readonly string[] ShellLanguages = ["bash", "sh", "shell", "console"];

    private const string OutputMarker = "<!-- doctest-output -->";

    /// <summary>Every shell block of <paramref name="markdown"/>, in order.</summary>
    public static IReadOnlyList<DocBlock> Parse(string file, string markdown)
    {
        var lines = markdown.ReplaceLineEndings("\n").Split('\n');
        var blocks = new List<DocBlock>();
        for (int i = 0; i < lines.Length; i++)
        {
            if (!IsFenceStart(lines[i], out string language))
            {
                continue;
            }

            int end = FenceEnd(lines, i);
            if (ShellLanguages.Contains(language, StringComparer.Ordinal))
            {
                string? marker = i > 0 ? MarkerOf(lines[i - 1]) : null;
                string? expected = null;
                int next = end + 1;
                while (next < lines.Length && lines[next].Trim().Length == 0)
                {
                    next++;
                }

                if (next + 1 < lines.Length && lines[next].Trim() == OutputMarker && IsFenceStart(lines[next + 1], out _))
                {
                    int outputEnd = FenceEnd(lines, next + 1);
                    expected = string.Join('\n', lines[(next + 2)..outputEnd]);
                }

                blocks.Add(new DocBlock(file, i + 1, marker, string.Join('\n', lines[(i + 1)..end]), expected));
            }

            i = end;
        }

        return blocks;
    }

    private static bool IsFenceStart(string line, out string language) => IsFenceStart(line, out language, out _);

    private static bool IsFenceStart(string line, out string language, out int ticks)
    {
        ticks = line.Length - line.TrimStart('`').Length;
        language = ticks >= 3 ? line[ticks..].Trim() : string.Empty;
        return ticks >= 3;
    }

    // The closing fence is a line of only backticks, at least as many as opened it (so ````markdown can show ```bash).
    private static int FenceEnd(string[] lines, int start)
    {
        IsFenceStart(lines[start], out _, out int ticks);
        for (int j = start + 1; j < lines.Length; j++)
        {
            var t = lines[j].TrimEnd();
            if (t.Length >= ticks && t.All(c => c == '`'))
            {
                return j;
            }
        }

        throw new FormatException($"the fence opened on line {start + 1} is never closed");
    }

    private static string? MarkerOf(string line)
    {
        var t = line.Trim();
        if (!t.StartsWith("<!--", StringComparison.Ordinal) || !t.EndsWith("-->", StringComparison.Ordinal))
        {
            return null;
        }

        var inner = t[4..^3].Trim();
        return inner.StartsWith("doctest", StringComparison.Ordinal) || inner.StartsWith("not-doctest", StringComparison.Ordinal) ? inner : null;
    }
}

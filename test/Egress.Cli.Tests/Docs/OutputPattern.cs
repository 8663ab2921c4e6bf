using System.Text.RegularExpressions;

namespace Egress.Cli.Tests.Docs;

/// <summary>
/// Matches what a command printed against the output shown in the docs. Every line must match, in order; a line
/// that is only <c>…</c> stands for any number of lines (also none), and <c>…</c> inside a line for any text.
/// Trailing blanks and leading/trailing empty lines are ignored.
/// </summary>
public static class OutputPattern
{
    /// <summary>The elision mark.</summary>
    public const string Ellipsis = "…";

    /// <summary>True when <paramref name="actual"/> is what <paramref name="expected"/> shows.</summary>
    public static bool Matches(string expected, string actual)
    {
        var want = Lines(expected);
        var got = Lines(actual);
        var patterns = want.Select(w => w == Ellipsis ? null : LinePattern(w)).ToArray();

        // reachable[j]: the first i patterns can consume exactly the first j lines.
        var reachable = new bool[got.Length + 1];
        reachable[0] = true;
        foreach (var pattern in patterns)
        {
            var next = new bool[got.Length + 1];
            for (int j = 0; j <= got.Length; j++)
            {
                if (!reachable[j])
                {
                    continue;
                }

                if (pattern is null)
                {
                    for (int k = j; k <= got.Length; k++)
                    {
                        next[k] = true;
                    }
                }
                else if (j < got.Length && pattern.IsMatch(got[j]))
                {
                    next[j + 1] = true;
                }
            }

            reachable = next;
        }

        return reachable[got.Length];
    }

    private static Regex LinePattern(string line)
        => new("^" + string.Join(".*", line.Split(Ellipsis).Select(Regex.Escape)) + "$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    private static string[] Lines(string text)
    {
        var lines = text.ReplaceLineEndings("\n").Split('\n').Select(l => l.TrimEnd()).ToList();
        while (lines.Count > 0 && lines[0].Length == 0)
        {
            lines.RemoveAt(0);
        }

        while (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }

        return [.. lines];
    }
}

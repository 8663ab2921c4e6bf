using System.Globalization;

namespace Egress.Telemetry.Tests;

/// <summary>Reads samples back out of a Prometheus text exposition.</summary>
internal static class Exposition
{
    /// <summary>Value of the sample whose name and label set (as written, e.g. <c>{a="b"}</c>) match exactly, or null.</summary>
    public static double? Value(string text, string name, string labels = "")
    {
        var prefix = name + labels + " ";
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return double.Parse(line[prefix.Length..], CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    /// <summary>Sample lines of one family (name or name_suffix), without comments.</summary>
    public static string[] Samples(string text, string name) =>
        [.. text.Split('\n').Where(l => l.StartsWith(name, StringComparison.Ordinal) && (l.Length > name.Length && (l[name.Length] is '{' or ' ' or '_')))];
}

using System.Text;

namespace Egress.Export;

/// <summary>Helpers the text exporters share.</summary>
internal static class ExportText
{
    /// <summary>Writes <paramref name="lines"/> as <c># </c> comments.</summary>
    public static StringBuilder Comments(this StringBuilder sb, IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            // A comment never ends early: no line break can reach the output from a token or a path.
            sb.Append("# ").Append(line.Replace('\n', ' ').Replace('\r', ' ')).Append('\n');
        }

        return sb;
    }

    /// <summary>Domain tokens that another domain token of the same list already covers are left out (the engines warn about them).</summary>
    public static IReadOnlyList<string> WithoutCoveredDomains(IEnumerable<string> domains)
    {
        var set = domains.Distinct(StringComparer.Ordinal).ToList();
        return [.. set.Where(d => !set.Any(o => o != d && d.EndsWith("." + o, StringComparison.Ordinal))).Order(StringComparer.Ordinal)];
    }
}

using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Egress.Governance.Tests;

/// <summary>What the workflow tests look at: the workflows, the composite action and their step texts.</summary>
internal static partial class WorkflowFiles
{
    /// <summary>Every workflow and action file the repository ships.</summary>
    public static readonly string[] All = [".github/workflows/ci.yml", ".github/workflows/security.yml", "action.yml"];

    /// <summary>The script of a step (empty when it is a <c>uses:</c> step).</summary>
    public static string Run(this YamlMappingNode step) => step.Get("run").Text() ?? string.Empty;

    /// <summary>The action a step uses, or null.</summary>
    public static string? Uses(this YamlMappingNode step) => step.Get("uses").Text();

    /// <summary>The single step whose script contains every one of <paramref name="fragments"/>.</summary>
    public static YamlMappingNode StepRunning(this IEnumerable<YamlMappingNode> steps, params string[] fragments)
    {
        var matches = steps.Where(s => fragments.All(f => s.Run().Contains(f, StringComparison.Ordinal))).ToList();
        Assert.True(matches.Count >= 1, $"no step runs: {string.Join(" … ", fragments)}");
        return matches[0];
    }

    /// <summary>Index of a step in <paramref name="steps"/>.</summary>
    public static int IndexOf(this IReadOnlyList<YamlMappingNode> steps, YamlMappingNode step)
        => steps.Select((s, i) => (s, i)).First(p => ReferenceEquals(p.s, step)).i;

    /// <summary>The upload-artifact steps, by artifact name.</summary>
    public static Dictionary<string, YamlMappingNode> Uploads(this IEnumerable<YamlMappingNode> steps)
        => steps.Where(s => s.Uses()?.StartsWith("actions/upload-artifact@", StringComparison.Ordinal) == true)
                .ToDictionary(s => s.Map("with").Get("name").Text()!);

    /// <summary><c>uses: owner/repo[/path]@ref  # comment</c> lines of a file, as written (comments included).</summary>
    public static IEnumerable<(int Line, string Action, string Ref, string Comment)> UsesLines(string relative)
    {
        string[] lines = RepositoryFiles.Read(relative).Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var m = UsesLine().Match(lines[i]);
            if (m.Success)
            {
                yield return (i + 1, m.Groups["action"].Value, m.Groups["ref"].Value, m.Groups["comment"].Value.Trim());
            }
        }
    }

    [GeneratedRegex(@"^\s*(?:-\s*)?uses:\s*(?<action>[^@\s]+)@(?<ref>\S+)\s*(?:#(?<comment>.*))?$")]
    private static partial Regex UsesLine();
}

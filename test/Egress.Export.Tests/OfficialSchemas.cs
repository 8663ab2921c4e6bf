using System.Collections.Concurrent;
using System.Text.Json;
using Json.Schema;

namespace Egress.Export.Tests;

/// <summary>
/// The official schemas in <c>shared/schemas</c> beside the repository (found by walking up from the test
/// output folder; in a worktree a <c>shared</c> symlink sits beside it). A missing folder fails the test:
/// validation that silently did not run would be a false pass.
/// </summary>
internal static class OfficialSchemas
{
    private static readonly ConcurrentDictionary<string, JsonSchema> Cache = new(StringComparer.Ordinal);

    // OpenAPI's x-kubernetes-* extension keywords (and Istio's nullable) carry no JSON Schema meaning: allow them, as
    // the schemas' README does with Draft 4 / 2020-12 validators.
    private static readonly Dialect Kubernetes = Dialect.Draft202012.With([], allowUnknownKeywords: true);

    public static string Folder { get; } = Find();

    /// <summary>The schema file <paramref name="name"/> (e.g. <c>k8s-deployment.schema.json</c>), parsed once.</summary>
    public static JsonSchema Get(string name) => Cache.GetOrAdd(name, n =>
        JsonSchema.FromText(File.ReadAllText(Path.Combine(Folder, n)), new BuildOptions { SchemaRegistry = new SchemaRegistry(), Dialect = Kubernetes }, new Uri("https://schemas.egress-policy.test/" + n)));

    /// <summary>Asserts <paramref name="instance"/> is valid under <paramref name="schema"/>, listing every error otherwise.</summary>
    public static void AssertValid(string schema, JsonElement instance)
    {
        var errors = Errors(schema, instance);
        Assert.True(errors.Count == 0, $"{schema}: invalid:\n" + string.Join('\n', errors) + "\n" + instance.GetRawText());
    }

    /// <summary>The validation errors (location: message) of <paramref name="instance"/> under <paramref name="schema"/>.</summary>
    public static List<string> Errors(string schema, JsonElement instance)
    {
        var result = Get(schema).Evaluate(instance, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (result.IsValid)
        {
            return [];
        }

        var list = new List<string>();
        foreach (var detail in result.Details ?? [])
        {
            foreach (var (key, message) in detail.Errors ?? new Dictionary<string, string>())
            {
                list.Add($"{detail.InstanceLocation} ({key}): {message}");
            }
        }

        return list.Count > 0 ? list : ["invalid (no detail)"];
    }

    private static string Find()
    {
        var start = new DirectoryInfo(AppContext.BaseDirectory);
        for (var dir = start; dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "schemas");
            if (File.Exists(Path.Combine(candidate, "k8s-networkpolicy-v1.schema.json")))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("shared/schemas (the official Kubernetes/Cilium/Istio schemas) not found above " + start.FullName + "; it sits beside the repository clone");
    }
}

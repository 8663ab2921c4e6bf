using System.Text;
using Egress.Export.Yaml;

namespace Egress.Export.Exporters;

/// <summary>Pieces every Kubernetes-object exporter shares: metadata, selectors, the YAML stream.</summary>
internal static class KubernetesObjects
{
    /// <summary><c>metadata</c> with the name, namespace and the lock annotations.</summary>
    public static YamlMapping Metadata(ExportPlan plan, string? nameSuffix = null)
    {
        var metadata = new YamlMapping().Add("name", plan.Options.Name + (nameSuffix is null ? "" : "-" + nameSuffix));
        if (plan.Options.Namespace is { } ns)
        {
            metadata.Add("namespace", ns);
        }

        var annotations = new YamlMapping().Add(ExportDefaults.SourceAnnotation, plan.Options.Source);
        if (plan.Options.SourceSha256 is { } sha)
        {
            annotations.Add(ExportDefaults.Sha256Annotation, sha);
        }

        return metadata.Add("annotations", annotations);
    }

    /// <summary><c>matchLabels</c> of the selector (an empty mapping selects every pod).</summary>
    public static YamlMapping MatchLabels(ExportPlan plan)
    {
        var labels = new YamlMapping();
        foreach (var (k, v) in plan.Options.Selector)
        {
            labels.Add(k, v);
        }

        return labels;
    }

    /// <summary>
    /// A label selector: <c>matchLabels</c> of the selector and, for the default role of a per-role export, a
    /// <c>NotIn</c> expression keeping out the workloads of every other role (which get their own objects).
    /// </summary>
    public static YamlMapping Selector(ExportPlan plan)
    {
        var selector = new YamlMapping().Add("matchLabels", MatchLabels(plan));
        if (plan.Options.RoleLabel is { } label && !plan.Options.OtherRoles.IsEmpty)
        {
            selector.Add("matchExpressions", new YamlSequence().Add(new YamlMapping()
                .Add("key", label).Add("operator", "NotIn").Add("values", YamlNode.Strings(plan.Options.OtherRoles))));
        }

        return selector;
    }

    /// <summary>A commented YAML stream of <paramref name="documents"/>.</summary>
    public static string Stream(ExportPlan plan, string target, IEnumerable<YamlNode> documents)
    {
        var sb = new StringBuilder().Comments(plan.HeaderLines(target));
        foreach (var doc in documents)
        {
            sb.Append("---\n");
            YamlWriter.Write(sb, doc);
        }

        return sb.ToString();
    }
}

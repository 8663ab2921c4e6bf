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

using YamlDotNet.RepresentationModel;

namespace Egress.Governance.Tests;

/// <summary>Small helpers over YamlDotNet's representation model for reading workflows.</summary>
internal static class Yaml
{
    /// <summary>Loads the single document of a repository YAML file.</summary>
    public static YamlMappingNode Load(string relative)
    {
        var stream = new YamlStream();
        using var reader = new StringReader(RepositoryFiles.Read(relative));
        stream.Load(reader);
        Assert.Single(stream.Documents);
        return Assert.IsType<YamlMappingNode>(stream.Documents[0].RootNode);
    }

    /// <summary>The value under <paramref name="key"/>, or null.</summary>
    public static YamlNode? Get(this YamlNode? node, string key)
        => node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    /// <summary>The scalar text of <paramref name="node"/>, or null.</summary>
    public static string? Text(this YamlNode? node) => (node as YamlScalarNode)?.Value;

    /// <summary>The mapping under <paramref name="key"/>; fails the test when absent.</summary>
    public static YamlMappingNode Map(this YamlNode node, string key) => Assert.IsType<YamlMappingNode>(node.Get(key));

    /// <summary>The mapping entries of <paramref name="node"/> as (key, value) pairs.</summary>
    public static IEnumerable<(string Key, YamlNode Value)> Entries(this YamlMappingNode node)
        => node.Children.Select(kv => (((YamlScalarNode)kv.Key).Value!, kv.Value));

    /// <summary>The steps of a job (or of a composite action's <c>runs</c>).</summary>
    public static IReadOnlyList<YamlMappingNode> Steps(this YamlNode job)
        => Assert.IsType<YamlSequenceNode>(job.Get("steps")).Children.Select(Assert.IsType<YamlMappingNode>).ToList();

    /// <summary>Every step of every job of a workflow.</summary>
    public static IEnumerable<YamlMappingNode> AllSteps(this YamlMappingNode workflow)
        => workflow.Map("jobs").Entries().SelectMany(job => job.Value.Steps());
}

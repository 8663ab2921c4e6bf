namespace Egress.Export.Yaml;

/// <summary>A YAML sequence.</summary>
public sealed class YamlSequence : YamlNode
{
    private readonly List<YamlNode> _items;

    /// <summary>A sequence of <paramref name="items"/>.</summary>
    public YamlSequence(IEnumerable<YamlNode>? items = null) => _items = items is null ? [] : [.. items];

    /// <summary>The items.</summary>
    public IReadOnlyList<YamlNode> Items => _items;

    /// <summary>Appends <paramref name="item"/>; returns this sequence.</summary>
    public YamlSequence Add(YamlNode item)
    {
        _items.Add(item);
        return this;
    }
}

namespace Egress.Export.Yaml;

/// <summary>A YAML mapping that keeps its keys in insertion order.</summary>
public sealed class YamlMapping : YamlNode
{
    private readonly List<KeyValuePair<string, YamlNode>> _entries = [];

    /// <summary>The entries, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, YamlNode>> Entries => _entries;

    /// <summary>Adds <paramref name="key"/>; returns this mapping. A key given twice is a bug.</summary>
    public YamlMapping Add(string key, YamlNode value)
    {
        if (_entries.Exists(e => e.Key == key))
        {
            throw new InvalidOperationException($"duplicate YAML key '{key}'");
        }

        _entries.Add(new(key, value));
        return this;
    }

    /// <summary>Adds a quoted string value.</summary>
    public YamlMapping Add(string key, string value) => Add(key, Str(value));
}

namespace Egress.Export.Yaml;

/// <summary>
/// A tiny YAML document model: mappings (ordered), sequences and scalars. Written by hand instead of
/// a serializer so the output is exactly what we mean (every string double-quoted, no YAML 1.1 typing
/// surprises such as <c>no</c> or <c>0755</c>) and stays Native AOT clean with no reflection.
/// </summary>
public abstract class YamlNode
{
    private protected YamlNode()
    {
    }

    /// <summary>A quoted string scalar.</summary>
    public static YamlNode Str(string value) => new YamlScalar(YamlScalar.Quote(value));

    /// <summary>An integer scalar.</summary>
    public static YamlNode Number(long value) => new YamlScalar(value.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A boolean scalar.</summary>
    public static YamlNode Bool(bool value) => new YamlScalar(value ? "true" : "false");

    /// <summary>A sequence of quoted strings.</summary>
    public static YamlSequence Strings(IEnumerable<string> values) => new(values.Select(Str));
}

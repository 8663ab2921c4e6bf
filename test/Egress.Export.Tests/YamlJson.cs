using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Egress.Export.Tests;

/// <summary>YAML documents as JSON (YAML 1.2 core schema for plain scalars: null, booleans, integers, floats).</summary>
internal static class YamlJson
{
    /// <summary>Every document of <paramref name="yaml"/>, as JSON.</summary>
    public static List<JsonElement> Documents(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return [.. stream.Documents.Select(d => JsonSerializer.SerializeToElement(ToNode(d.RootNode)))];
    }

    private static JsonNode? ToNode(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, ToNode(kv.Value)))),
        YamlSequenceNode seq => new JsonArray([.. seq.Children.Select(ToNode)]),
        YamlScalarNode s => Scalar(s),
        _ => throw new InvalidOperationException("unsupported YAML node " + node.NodeType),
    };

    private static JsonValue? Scalar(YamlScalarNode s)
    {
        var v = s.Value ?? "";
        if (s.Style is ScalarStyle.Plain)
        {
            if (v is "null" or "~" or "")
            {
                return null;
            }

            if (v is "true" or "false")
            {
                return JsonValue.Create(v == "true");
            }

            if (long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l))
            {
                return JsonValue.Create(l);
            }

            if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d))
            {
                return JsonValue.Create(d);
            }
        }

        return JsonValue.Create(v);
    }
}

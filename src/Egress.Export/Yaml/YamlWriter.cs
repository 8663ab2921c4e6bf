using System.Text;

namespace Egress.Export.Yaml;

/// <summary>Writes <see cref="YamlNode"/> documents in block style, two-space indents, keys and strings double-quoted.</summary>
public static class YamlWriter
{
    /// <summary>Writes one document (no leading <c>---</c>) to <paramref name="output"/>.</summary>
    public static void Write(StringBuilder output, YamlNode document)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(document);
        WriteBlock(output, document, 0, inlineFirst: false);
    }

    // inlineFirst: the caller already wrote "- " for this node, so its first line takes no indent.
    private static void WriteBlock(StringBuilder sb, YamlNode node, int indent, bool inlineFirst)
    {
        bool first = true;
        switch (node)
        {
            case YamlMapping { Entries.Count: > 0 } map:
                foreach (var (key, value) in map.Entries)
                {
                    Indent(sb, indent, inlineFirst && first);
                    first = false;
                    sb.Append(YamlScalar.Quote(key)).Append(':');
                    if (IsBlock(value))
                    {
                        sb.Append('\n');
                        WriteBlock(sb, value, value is YamlSequence ? indent : indent + 2, inlineFirst: false);
                    }
                    else
                    {
                        sb.Append(' ').Append(Inline(value)).Append('\n');
                    }
                }

                break;
            case YamlSequence { Items.Count: > 0 } seq:
                foreach (var item in seq.Items)
                {
                    Indent(sb, indent, inlineFirst && first);
                    first = false;
                    sb.Append("- ");
                    if (IsBlock(item))
                    {
                        WriteBlock(sb, item, indent + 2, inlineFirst: true);
                    }
                    else
                    {
                        sb.Append(Inline(item)).Append('\n');
                    }
                }

                break;
            default:
                Indent(sb, indent, inlineFirst);
                sb.Append(Inline(node)).Append('\n');
                break;
        }
    }

    private static void Indent(StringBuilder sb, int indent, bool skip)
    {
        if (!skip)
        {
            sb.Append(' ', indent);
        }
    }

    private static bool IsBlock(YamlNode node) => node is YamlMapping { Entries.Count: > 0 } or YamlSequence { Items.Count: > 0 };

    private static string Inline(YamlNode node) => node switch
    {
        YamlScalar s => s.Text,
        YamlMapping => "{}",
        YamlSequence => "[]",
        _ => throw new InvalidOperationException("unknown YAML node"),
    };
}

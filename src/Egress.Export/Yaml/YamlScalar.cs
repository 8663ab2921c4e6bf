using System.Globalization;
using System.Text;

namespace Egress.Export.Yaml;

/// <summary>A scalar, held as the text it is written as.</summary>
public sealed class YamlScalar : YamlNode
{
    internal YamlScalar(string text) => Text = text;

    /// <summary>The scalar as written (strings already quoted).</summary>
    public string Text { get; }

    /// <summary>A double-quoted YAML string: backslash, quote and every non-printable or non-ASCII character escaped.</summary>
    public static string Quote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var sb = new StringBuilder(value.Length + 2).Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"':
                    sb.Append("\\\"");
                    break;
                case '\\':
                    sb.Append("\\\\");
                    break;
                default:
                    if (c < 0x20 || c > 0x7e)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        return sb.Append('"').ToString();
    }
}

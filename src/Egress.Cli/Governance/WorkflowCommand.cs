using System.Text;

namespace Egress.Cli.Governance;

/// <summary>GitHub Actions workflow commands with a file/line location (<c>::error file=F,line=N,title=T::message</c>).</summary>
internal static class WorkflowCommand
{
    /// <summary>Formats one annotation; data and property values are escaped so a message cannot inject a second command.</summary>
    public static string Format(string kind, string title, string message, string? file = null, int? line = null)
    {
        var sb = new StringBuilder("::").Append(kind).Append(' ');
        if (file is not null)
        {
            sb.Append("file=").Append(EscapeProperty(file)).Append(',');
            if (line is { } l)
            {
                sb.Append("line=").Append(l.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(',');
            }
        }

        sb.Append("title=").Append(EscapeProperty(title)).Append("::").Append(EscapeData(message));
        return sb.ToString();
    }

    /// <summary>Escapes the message part.</summary>
    public static string EscapeData(string value)
        => value.Replace("%", "%25", StringComparison.Ordinal).Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal);

    /// <summary>Escapes a property value.</summary>
    public static string EscapeProperty(string value)
        => EscapeData(value).Replace(":", "%3A", StringComparison.Ordinal).Replace(",", "%2C", StringComparison.Ordinal);
}

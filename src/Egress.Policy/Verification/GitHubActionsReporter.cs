using System.Text;
using Egress.Policy.Events;

namespace Egress.Policy.Verification;

/// <summary>
/// GitHub Actions workflow commands (<c>::error</c>, <c>::warning</c>) and the Markdown job summary
/// (<c>$GITHUB_STEP_SUMMARY</c>) for verification results and blocked hosts.
/// </summary>
public static class GitHubActionsReporter
{
    /// <summary>Writes one <c>::error</c> per error, one <c>::warning</c> per warning and per unique blocked host.</summary>
    public static void WriteAnnotations(TextWriter output, VerificationResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        foreach (var error in result.Errors)
        {
            output.WriteLine(Command("error", "Egress policy", error.Message));
        }

        // Blocked events are annotated once per unique host below rather than as one summary line.
        foreach (var warning in result.Warnings.Where(w => w.Category != VerificationCategory.Blocked))
        {
            output.WriteLine(Command("warning", "Egress policy", warning.Message));
        }

        WriteBlockedHostAnnotations(output, result.BlockedHosts);
    }

    /// <summary>Writes one <c>::warning</c> per unique blocked host.</summary>
    public static void WriteBlockedHostAnnotations(TextWriter output, IEnumerable<HostCount> blockedHosts)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(blockedHosts);
        foreach (var host in blockedHosts)
        {
            output.WriteLine(Command("warning", "Egress blocked", $"blocked egress to {host.Host} ({host.Occurrences} time{(host.Occurrences == 1 ? string.Empty : "s")})"));
        }
    }

    /// <summary>The Markdown report appended to the job summary.</summary>
    public static string RenderMarkdown(VerificationResult result, EventStatistics events)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(events);
        var sb = new StringBuilder();
        sb.Append("## Egress policy verification: ").Append(result.Passed ? "PASSED ✅" : $"FAILED ❌ (exit {result.ExitCode})").Append("\n\n");
        sb.Append("| allowed | blocked | would block (audit) | total |\n|---:|---:|---:|---:|\n");
        sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"| {events.AllowedTotal} | {events.BlockedTotal} | {events.WouldBlockTotal} | {events.Total} |\n\n");
        if (!result.Errors.IsEmpty)
        {
            sb.Append("### Errors\n\n");
            foreach (var e in result.Errors)
            {
                sb.Append("- ").Append(EscapeMarkdown(e.Message)).Append('\n');
            }

            sb.Append('\n');
        }

        if (!result.Warnings.IsEmpty)
        {
            sb.Append("### Warnings\n\n");
            foreach (var w in result.Warnings)
            {
                sb.Append("- ").Append(EscapeMarkdown(w.Message)).Append('\n');
            }

            sb.Append('\n');
        }

        if (result.BlockedHosts.Count > 0)
        {
            sb.Append("### Blocked hosts\n\n| host | occurrences |\n|---|---:|\n");
            foreach (var h in result.BlockedHosts.Take(50))
            {
                sb.Append("| `").Append(EscapeMarkdown(h.Host.Replace("`", "'", StringComparison.Ordinal))).Append("` | ").Append(h.Occurrences).Append(" |\n");
            }

            sb.Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>Appends <paramref name="markdown"/> to the file named by <c>GITHUB_STEP_SUMMARY</c>, if set. Never throws.</summary>
    public static bool AppendStepSummary(string? summaryPath, string markdown)
    {
        if (string.IsNullOrWhiteSpace(summaryPath))
        {
            return false;
        }

        try
        {
            File.AppendAllText(summaryPath, markdown);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Formats a workflow command, escaping data and properties as the runner expects.</summary>
    public static string Command(string kind, string title, string message) => Command(kind, title, message, null, null);

    /// <summary>
    /// The one workflow-command writer (annotations here and in <c>verify-versions</c>):
    /// <c>::kind file=F,line=N,title=T::message</c>, data and properties escaped so that no value can end the
    /// command or start another.
    /// </summary>
    public static string Command(string kind, string title, string message, string? file, int? line)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(message);
        var sb = new System.Text.StringBuilder("::").Append(kind).Append(' ');
        if (file is not null)
        {
            sb.Append("file=").Append(EscapeProperty(file)).Append(',');
            if (line is { } l)
            {
                sb.Append("line=").Append(l.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(',');
            }
        }

        return sb.Append("title=").Append(EscapeProperty(title)).Append("::").Append(EscapeData(message)).ToString();
    }

    // Control characters other than CR and LF (terminal escapes in a CI log) become '?' through the one
    // sanitiser; CR, LF and % are then percent-encoded as the runner expects of workflow-command data.
    private static string EscapeData(string s)
        => SafeText.ReplaceControls(s, keepLineBreaks: true).Replace("%", "%25", StringComparison.Ordinal).Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal);

    private static string EscapeProperty(string s)
        => EscapeData(s).Replace(":", "%3A", StringComparison.Ordinal).Replace(",", "%2C", StringComparison.Ordinal);

    private static string EscapeMarkdown(string s)
        => SafeText.ReplaceControls(s, keepLineBreaks: true).Replace("|", "\\|", StringComparison.Ordinal).Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}

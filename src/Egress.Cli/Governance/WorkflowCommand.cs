using Egress.Policy.Verification;

namespace Egress.Cli.Governance;

/// <summary>GitHub Actions workflow commands with a file/line location (<c>::error file=F,line=N,title=T::message</c>).</summary>
internal static class WorkflowCommand
{
    /// <summary>Formats one annotation through the one writer, <see cref="GitHubActionsReporter.Command(string, string, string, string, int?)"/>.</summary>
    public static string Format(string kind, string title, string message, string? file = null, int? line = null)
        => GitHubActionsReporter.Command(kind, title, message, file, line);
}

using Egress.Policy.Configuration;

namespace Egress.Cli.Commands;

/// <summary>How <c>run</c> isolates its command (<c>--isolation</c>, <c>EGRESS_ISOLATION</c>).</summary>
internal enum RunIsolation
{
    /// <summary>New network, PID and mount namespaces; every connection is decided (Linux).</summary>
    Netns,

    /// <summary>No isolation: only proxy-aware programs are decided. Said loudly in the report and summary.</summary>
    None,
}

/// <summary>Reads <see cref="RunIsolation"/> from the flag, else the environment, else the default.</summary>
internal static class RunIsolationReader
{
    /// <summary>The name written in reports and summaries.</summary>
    public static string Name(this RunIsolation isolation) => isolation == RunIsolation.Netns ? "netns" : "none";

    /// <summary>The mode, or null with a message naming the flag or variable at fault.</summary>
    public static RunIsolation? Read(string? flag, Func<string, string?> environment, TextWriter error)
    {
        string? env = environment(EgressEnvironment.Isolation);
        string? text = flag ?? (string.IsNullOrWhiteSpace(env) ? null : env);
        string source = flag is not null ? "--isolation" : EgressEnvironment.Isolation;
        if (text is null || string.Equals(text.Trim(), "netns", StringComparison.OrdinalIgnoreCase))
        {
            return RunIsolation.Netns;
        }

        if (string.Equals(text.Trim(), "none", StringComparison.OrdinalIgnoreCase))
        {
            return RunIsolation.None;
        }

        error.WriteLine($"egress-policy run: {source} must be 'netns' or 'none', not '{text}'");
        return null;
    }

    /// <summary>The loud line shown when the command was not isolated.</summary>
    public const string NotIsolatedWarning =
        "the command was NOT isolated (--isolation none): programs that ignore HTTP_PROXY/HTTPS_PROXY, raw sockets, DNS and UDP were neither decided nor recorded, so this report can miss connections";
}

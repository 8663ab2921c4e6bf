using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Text.RegularExpressions;
using Egress.Policy.Configuration;
using Egress.Telemetry;

namespace Egress.Cli.Usage;

/// <summary>
/// Adds to every command's <c>--help</c> the environment variables that command reads, the default allowlist
/// and what each token kind matches. Installed once on the root's help option after the tree is built, so the
/// command files need not repeat it.
/// </summary>
internal static partial class CommandHelp
{
    private static readonly (string Name, string Meaning)[] Policy =
    [
        (EgressEnvironment.Allowlist, $"comma-separated tokens. Unset: the keyword '{EgressDefaults.Allowlist}', which matches any host containing it (api.openai.com, but also openai.attacker.example). Set but empty: everything is denied."),
        (EgressEnvironment.Enforce, "1 (default) blocks what the allowlist does not allow; 0 is audit mode: nothing is blocked, would-be denials are recorded."),
    ];

    private static readonly (string Name, string Meaning)[] Audit =
    [
        (EgressEnvironment.EventsFile, "JSON-lines journal every decision is appended to (unset: none)."),
        (EgressEnvironment.Log, "0 silent, 1 (default) denials and warnings, 2 every decision; on stderr."),
        (EgressEnvironment.LogFormat, "text (default) or json."),
        (EgressEnvironment.PromEnable, $"1 serves Prometheus /metrics on 127.0.0.1, port {EgressEnvironment.PromPort} (default 9464), while the command runs."),
        (EgressEnvironment.OtelEnable, $"1 exports metrics over OTLP to {EgressEnvironment.OtelEndpoint} (default http://localhost:4318)."),
    ];

    private static readonly (string Name, string Meaning)[] Lock =
    [
        (EgressEnvironment.LockFile, $"lock file path (unset: ./{EgressDefaults.LockFileName}, then ./core_modules/network/{EgressDefaults.LockFileName})."),
    ];

    private static readonly (string Name, string Meaning)[] Ci =
    [
        (EgressEnvironment.Ci, "set (not 0/false/no/off): CI mode, where rule failures fail instead of warning."),
        (EgressEnvironment.CiFailOnBlocked, "1: in CI, blocked events fail with exit 4."),
        (EgressEnvironment.CiFailOnDrift, "1: in CI, allowlist different from the lock file fails with exit 3."),
        (EgressEnvironment.CiAllowDisable, $"1: in CI, permit {EgressEnvironment.Enforce}=0."),
        (EgressEnvironment.GitHubActions, "true: write ::error/::warning annotations and the step summary."),
    ];

    private static readonly (string Name, string Meaning)[] Metrics =
    [
        (EgressTelemetryEnvironment.PromTextfileDir, "directory for Prometheus textfile-collector metrics of this check."),
    ];

    private static readonly (string Name, string Meaning)[] Tokens =
    [
        ("openai", "keyword: any host name containing the text, e.g. openai.attacker.example; never an IP."),
        ("openai.com", "domain: the host and its subdomains (api.openai.com), not notopenai.com."),
        ("=api.openai.com", "exact host: that host only."),
        ("10.0.0.0/8, [::1]", "IP address or CIDR."),
        ("host:443", "any of the last three on that port only. Wildcards (*, all, any, /0) are rejected."),
    ];

    /// <summary>The environment variables <paramref name="command"/> reads, for its help page and the docs.</summary>
    public static IReadOnlyList<(string Name, string Meaning)> EnvironmentOf(Command command) => command switch
    {
        RootCommand => [.. Policy, .. Lock, .. Audit, .. Ci, .. Metrics],
        { Name: "check" } => [.. Policy, .. Audit],
        { Name: "proxy" } => [.. Policy, .. Audit],
        { Name: "run" } => [.. Policy, (EgressEnvironment.Isolation, "netns (default) or none, as --isolation; the flag wins."), .. Audit, .. Lock, .. Ci],
        { Name: "lock" or "export" } => [Policy[0], .. Lock],
        { Name: "verify-versions" } => [Ci[0], Ci[^1], (EgressEnvironment.GitHubStepSummary, "file the Markdown report is appended to under GitHub Actions."), .. Metrics],
        _ => [.. Policy],
    };

    /// <summary>Whether <paramref name="command"/> decides destinations, so its help explains the tokens.</summary>
    private static bool Decides(Command command) => command is RootCommand || command.Name is "check" or "proxy" or "run" or "lock" or "export";

    /// <summary>
    /// Adds the sections to the help of <paramref name="root"/> and every command below it, and makes each
    /// default print once: System.CommandLine prints <c>[default: …]</c> for an option with a default value, so a
    /// "(default …)" in its description is dropped.
    /// </summary>
    public static void Install(RootCommand root, TextWriter output)
    {
        if (root.Options.OfType<HelpOption>().FirstOrDefault() is { Action: HelpAction help } option)
        {
            option.Action = new HelpWithEnvironment(help, output);
        }

        DropRepeatedDefaults(root);
    }

    /// <summary>Writes the environment and token sections of <paramref name="command"/>'s help.</summary>
    public static void WriteSections(Command command, TextWriter output)
    {
        var variables = EnvironmentOf(command);
        if (variables.Count > 0)
        {
            output.WriteLine("Environment:");
            WriteColumns(variables, output);
            output.WriteLine();
        }

        if (Decides(command))
        {
            output.WriteLine($"Allowlist tokens ({EgressEnvironment.Allowlist} and the lock file):");
            WriteColumns(Tokens, output);
            output.WriteLine();
        }
    }

    private static void WriteColumns(IReadOnlyList<(string Name, string Meaning)> rows, TextWriter output)
    {
        int width = rows.Max(r => r.Name.Length) + 2;
        foreach (var (name, meaning) in rows)
        {
            output.WriteLine($"  {name.PadRight(width)}{meaning}");
        }
    }

    private static void DropRepeatedDefaults(Command command)
    {
        foreach (var option in command.Options)
        {
            if (option.HasDefaultValue && option.Description is { } text)
            {
                option.Description = RepeatedDefault().Replace(text, m => m.Groups["rest"].Success ? $" ({m.Groups["rest"].Value})" : string.Empty);
            }
        }

        foreach (var sub in command.Subcommands)
        {
            DropRepeatedDefaults(sub);
        }
    }

    // " (default X)" or " (default X; more)" -> "" or " (more)".
    [GeneratedRegex(@" ?\(default:? [^;)]*(?:; (?<rest>[^)]*))?\)", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex RepeatedDefault();

    /// <summary>The standard help, then the environment and token sections.</summary>
    private sealed class HelpWithEnvironment(HelpAction inner, TextWriter output) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            int exit = inner.Invoke(parseResult);
            WriteSections(parseResult.CommandResult.Command, output);
            return exit;
        }
    }
}

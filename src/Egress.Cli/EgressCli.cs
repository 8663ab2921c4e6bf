using System.CommandLine;
using System.CommandLine.Invocation;
using Egress.Cli.Commands;
using Egress.Cli.Usage;

namespace Egress.Cli;

/// <summary>Builds the command tree and runs it.</summary>
internal static class EgressCli
{
    /// <summary>Parses <paramref name="args"/> and runs the chosen command; returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CliContext context)
    {
        var root = BuildRoot(context);
        // No response files: "@name" is an argument like any other, never the contents of a file named name.
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count == 0 && UnknownOptions.Find(parse) is { } unknown)
        {
            return UnknownOptions.Report(parse, unknown, context.Error);
        }

        // A parse error prints the error, naming the command, and where help is — not the whole help page after it.
        if (parse.Action is ParseErrorAction)
        {
            string name = parse.CommandResult.Command is RootCommand ? "egress-policy" : $"egress-policy {parse.CommandResult.Command.Name}";
            foreach (var error in parse.Errors)
            {
                context.Error.WriteLine(CliText.Bounded($"{name}: {error.Message}", 300));
            }

            context.Error.WriteLine($"{name}: usage error (see {name} --help)");
            return ExitCodes.UsageOrDenied;
        }

        // The commands that decide traffic say once when the default keyword allowlist is in force.
        context.AnnounceDefaultAllowlist = parse.CommandResult.Command.Name is "check" or "run" or "proxy";
        var config = new InvocationConfiguration { Output = context.Out, Error = context.Error, EnableDefaultExceptionHandler = true };
        if (parse.CommandResult.Command.Name == "run")
        {
            // run handles SIGTERM/SIGINT itself (forward, wait, report); the default handler would exit 143 after 2 s.
            config.ProcessTerminationTimeout = null;
        }

        try
        {
            return await parse.InvokeAsync(config).ConfigureAwait(false);
        }
        finally
        {
            context.StopTelemetry();
        }
    }

    /// <summary>The root command with the seed's flags and every subcommand.</summary>
    public static RootCommand BuildRoot(CliContext context)
    {
        var root = new RootCommand(
            "egress-policy: a default-deny egress allowlist for programs and CI.\n" +
            "Flags run in this order and combine: --verify, --print [--json], --summary-out PATH.\n" + ExitCodes.HelpText);
        VerifyPrintSummaryFlags.Attach(root, context);
        root.Subcommands.Add(CheckCommand.Create(context));
        root.Subcommands.Add(LockCommand.Create(context));
        root.Subcommands.Add(VerifyVersionsCommand.Create(context));
        root.Subcommands.Add(ProxyCommand.Create(context));
        root.Subcommands.Add(RunCommand.Create(context));
        root.Subcommands.Add(ExportCommand.Create(context));
        CommandHelp.Install(root, context.Out);
        return root;
    }
}

using System.CommandLine;
using Egress.Cli.Commands;

namespace Egress.Cli;

/// <summary>Builds the command tree and runs it.</summary>
internal static class EgressCli
{
    /// <summary>Parses <paramref name="args"/> and runs the chosen command; returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, CliContext context)
    {
        var root = BuildRoot(context);
        var parse = root.Parse(args);
        var config = new InvocationConfiguration { Output = context.Out, Error = context.Error, EnableDefaultExceptionHandler = true };
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
        SeedFlags.Attach(root, context);
        root.Subcommands.Add(CheckCommand.Create(context));
        root.Subcommands.Add(LockCommand.Create(context));
        root.Subcommands.Add(VerifyVersionsCommand.Create(context));
        root.Subcommands.Add(ProxyCommand.Create(context));
        root.Subcommands.Add(RunCommand.Create(context));
        root.Subcommands.Add(ExportCommand.Create(context));
        return root;
    }
}

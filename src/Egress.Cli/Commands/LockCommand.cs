using System.CommandLine;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Policy.FileSystem;
using Egress.Policy.Locking;

namespace Egress.Cli.Commands;

/// <summary><c>lock [--file PATH] [--diff]</c>: write the lock file from the current allowlist, or show drift.</summary>
internal static class LockCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Option<string?>("--file") { Description = $"Lock file path (default: {EgressEnvironment.LockFile}, else the discovered file, else ./{EgressDefaults.LockFileName}).", HelpName = "PATH" };
        var diff = new Option<bool>("--diff") { Description = "Show drift between the allowlist and the lock file instead of writing; exit 3 on drift." };
        var fromEvents = new Option<string?>("--from-events") { Description = "Propose tokens covering the hosts an audit run reached (journal .jsonl or egress-summary.json); writes only with --write or --file.", HelpName = "FILE" };
        var write = new Option<bool>("--write") { Description = "With --from-events: write the proposal to the lock file." };
        var command = new Command("lock", "Write the lock file from the current allowlist (for review), or show drift with --diff.")
        {
            file,
            diff,
            fromEvents,
            write,
        };
        command.SetAction(parse => parse.GetValue(fromEvents) is { } events
            ? LockFromEvents.Run(context, events, parse.GetValue(file), parse.GetValue(write), DefaultPath(context))
            : Run(context, parse.GetValue(file), parse.GetValue(diff)));
        return command;
    }

    private static string DefaultPath(CliContext ctx)
        => LockFile.Discover(ctx.ReadOptions(), ctx.WorkingDirectory).Path ?? ctx.FullPath(EgressDefaults.LockFileName);

    private static int Run(CliContext ctx, string? file, bool diff)
    {
        using var policy = ctx.CreatePolicy();
        string path = file is not null
            ? ctx.FullPath(file)
            : LockFile.Discover(policy.Options, ctx.WorkingDirectory).Path ?? ctx.FullPath(EgressDefaults.LockFileName);

        if (diff)
        {
            return Diff(ctx, policy, path);
        }

        if (!policy.TokenErrors.IsEmpty)
        {
            foreach (var error in policy.TokenErrors)
            {
                ctx.Error.WriteLine(CliText.Clean($"egress-policy: {EgressEnvironment.Allowlist}: {error.Message}"));
            }

            ctx.Error.WriteLine($"egress-policy: lock file {path} not written: fix the allowlist first");
            return ExitCodes.Validation;
        }

        if (policy.Options.Allowlist.IsEmpty)
        {
            ctx.Error.WriteLine($"egress-policy: {EgressEnvironment.Allowlist} is empty; lock file {path} not written");
            return ExitCodes.Validation;
        }

        try
        {
            LockFile.Write(path, policy.Options.Allowlist);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ctx.Error.WriteLine(CliText.Clean($"egress-policy: {FileErrors.Describe("write", "lock file", path, ex)}"));
            return ExitCodes.UsageOrDenied;
        }

        ctx.Out.WriteLine($"wrote {path} ({policy.Options.Allowlist.Length} token(s)); commit it for review");
        return ExitCodes.Success;
    }

    private static int Diff(CliContext ctx, EgressPolicy policy, string path)
    {
        LockFileContent content;
        try
        {
            content = LockFile.Load(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ctx.Error.WriteLine(CliText.Clean($"egress-policy: {FileErrors.Describe("read", "lock file", path, ex)}"));
            return ExitCodes.Validation;
        }

        var (added, removed) = LockFile.Diff(policy.Options.Allowlist, content.Tokens);
        ctx.Out.WriteLine($"--- {path} (lock file)");
        ctx.Out.WriteLine($"+++ {EgressEnvironment.Allowlist}");
        foreach (var token in removed)
        {
            ctx.Out.WriteLine($"-{LockFile.Escape(token)}");
        }

        foreach (var token in added)
        {
            ctx.Out.WriteLine($"+{LockFile.Escape(token)}");
        }

        bool drift = !added.IsEmpty || !removed.IsEmpty;
        ctx.Out.WriteLine(drift ? $"drift: {added.Length} added, {removed.Length} removed" : "no drift");

        // Every lock line is a token: an invalid or wildcard line makes the lock file itself wrong (exit 2).
        foreach (var problem in content.Problems)
        {
            ctx.Error.WriteLine(CliText.Clean($"egress-policy: {problem.Describe(path)}"));
        }

        return !content.Problems.IsEmpty ? ExitCodes.Validation : drift ? ExitCodes.Drift : ExitCodes.Success;
    }
}

using System.CommandLine;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Policy.Locking;

namespace Egress.Cli.Commands;

/// <summary><c>lock [--file PATH] [--diff]</c>: write the lock file from the current allowlist, or show drift.</summary>
internal static class LockCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Option<string?>("--file") { Description = $"Lock file path (default: {EgressEnvironment.LockFile}, else the discovered file, else ./{EgressDefaults.LockFileName}).", HelpName = "PATH" };
        var diff = new Option<bool>("--diff") { Description = "Show drift between the allowlist and the lock file instead of writing; exit 3 on drift." };
        var command = new Command("lock", "Write the lock file from the current allowlist (for review), or show drift with --diff.")
        {
            file,
            diff,
        };
        command.SetAction(parse => Run(context, parse.GetValue(file), parse.GetValue(diff)));
        return command;
    }

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
            ctx.Error.WriteLine($"egress-policy: cannot write lock file {path}: {ex.Message}");
            return ExitCodes.UsageOrDenied;
        }

        ctx.Out.WriteLine($"wrote {path} ({policy.Options.Allowlist.Length} token(s)); commit it for review");
        return ExitCodes.Success;
    }

    private static int Diff(CliContext ctx, EgressPolicy policy, string path)
    {
        System.Collections.Immutable.ImmutableSortedSet<string> locked;
        try
        {
            locked = LockFile.Read(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ctx.Error.WriteLine($"egress-policy: cannot read lock file: {ex.Message}");
            return ExitCodes.Validation;
        }

        var (added, removed) = LockFile.Diff(policy.Options.Allowlist, locked);
        ctx.Out.WriteLine($"--- {path} (lock file)");
        ctx.Out.WriteLine($"+++ {EgressEnvironment.Allowlist}");
        foreach (var token in removed)
        {
            ctx.Out.WriteLine(CliText.Clean($"-{token}"));
        }

        foreach (var token in added)
        {
            ctx.Out.WriteLine(CliText.Clean($"+{token}"));
        }

        bool drift = !added.IsEmpty || !removed.IsEmpty;
        ctx.Out.WriteLine(drift ? $"drift: {added.Length} added, {removed.Length} removed" : "no drift");
        return drift ? ExitCodes.Drift : ExitCodes.Success;
    }
}

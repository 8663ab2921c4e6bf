using Egress.Policy.FileSystem;
using Egress.Policy.Locking;

namespace Egress.Cli.Commands;

/// <summary><c>lock --from-events FILE [--write | --file PATH]</c>: propose an allowlist from what a run reached.</summary>
internal static class LockFromEvents
{
    public static int Run(CliContext ctx, string source, string? file, bool write, string defaultPath)
    {
        LearnedPolicy learned;
        string sourcePath = ctx.FullPath(source);
        try
        {
            learned = PolicyLearner.LearnFromFile(sourcePath, ctx.ReadOptions().JournalIntegrity);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            ctx.Error.WriteLine(CliText.Clean($"egress-policy: {FileErrors.Describe("learn from", "--from-events file", sourcePath, ex)}"));
            return ExitCodes.UsageOrDenied;
        }

        int hosts = learned.Tokens.Sum(t => t.Hosts.Count);
        ctx.Out.WriteLine($"# proposed from {source}: {hosts} host(s) -> {learned.Tokens.Count} token(s); review before committing");
        int width = learned.Tokens.Count == 0 ? 0 : learned.Tokens.Max(t => t.Token.Length);
        foreach (var token in learned.Tokens)
        {
            ctx.Out.WriteLine($"{token.Token.PadRight(width)}  # {string.Join(", ", token.Hosts)}");
        }

        if (learned.Skipped.Count > 0)
        {
            ctx.Error.WriteLine($"egress-policy: skipped (not a valid host): {string.Join(", ", learned.Skipped)}");
        }

        if (learned.Journal is { UnverifiedLines: > 0 } unverified)
        {
            ctx.Error.WriteLine($"egress-policy: warning: {unverified.UnverifiedLines} line(s) of {source} do not verify against {Policy.Configuration.EgressEnvironment.EventsKey} and were not learned from (lines {string.Join(", ", unverified.UnverifiedLineNumbers)}{(unverified.UnverifiedLines > unverified.UnverifiedLineNumbers.Count ? ", …" : "")})");
        }

        if (learned.Journal is { UnreadableLines: > 0 } unreadable)
        {
            ctx.Error.WriteLine($"egress-policy: warning: {unreadable.UnreadableLines} unreadable line(s) in {source} (lines {string.Join(", ", unreadable.UnreadableLineNumbers)}{(unreadable.UnreadableLines > unreadable.UnreadableLineNumbers.Count ? ", …" : "")})");
        }

        if (learned.DeniedHostsIgnored > 0)
        {
            ctx.Error.WriteLine($"egress-policy: {learned.DeniedHostsIgnored} host(s) seen only as denied were not learned; record an audit run (EGRESS_ENFORCE=0) to include them");
        }

        if (learned.Tokens.Count == 0)
        {
            ctx.Error.WriteLine("egress-policy: nothing to propose (no allowed or would-be-denied hosts)");
            return ExitCodes.UsageOrDenied;
        }

        ctx.Out.WriteLine($"# EGRESS_ALLOWLIST={string.Join(',', learned.Tokens.Select(t => t.Token))}");
        if (file is null && !write)
        {
            ctx.Out.WriteLine("# not written: pass --write (lock file) or --file PATH");
            return ExitCodes.Success;
        }

        string path = file is not null ? ctx.FullPath(file) : defaultPath;
        try
        {
            LockFile.Write(path, learned.Tokens.Select(t => t.Token));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ctx.Error.WriteLine(CliText.Clean($"egress-policy: {FileErrors.Describe("write", "lock file", path, ex)}"));
            return ExitCodes.UsageOrDenied;
        }

        ctx.Out.WriteLine($"# wrote {path}; commit it for review and set EGRESS_ALLOWLIST to match");
        return ExitCodes.Success;
    }
}

using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Egress.Export;
using Egress.Export.Exporters;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Policy.Locking;
using Egress.Policy.Tokens;

namespace Egress.Cli.Commands;

/// <summary>
/// <c>export --format F</c>: compile the reviewed lock file (or, with <c>--from-env</c> or when no lock file
/// exists, the environment's allowlist) for another engine, never wider than it. The lock file wins over
/// the environment because it is the reviewed source; which one was used is printed on stderr.
/// </summary>
internal static partial class ExportCommand
{
    public static Command Create(CliContext context)
    {
        var format = new Option<string>("--format")
        {
            Description = "Target: " + string.Join("; ", PolicyExporters.All.Select(e => $"{e.Name} ({e.Description})")) + ".",
            Required = true,
            HelpName = "FORMAT",
        };
        format.AcceptOnlyFromAmong([.. PolicyExporters.All.Select(e => e.Name)]);
        var lockPath = new Option<string?>("--lock") { Description = $"Lock file to export (default: {EgressEnvironment.LockFile}, else the discovered ./{EgressDefaults.LockFileName}).", HelpName = "PATH" };
        var fromEnv = new Option<bool>("--from-env") { Description = $"Export {EgressEnvironment.Allowlist} instead of the lock file." };
        var output = new Option<string?>("--output", "-o") { Description = "Write to FILE (atomically) instead of stdout.", HelpName = "FILE" };
        var lossy = new Option<bool>("--lossy") { Description = "Drop the tokens the target cannot express exactly (narrower; listed in a comment and on stderr) instead of failing." };
        var ports = new Option<string?>("--ports") { Description = "For targets whose rules need ports (istio, harden-runner): narrow port-less tokens to these ports, e.g. 443,80.", HelpName = "LIST" };
        var unguarded = new Option<bool>("--unguarded-domains") { Description = "Accept that the target (harden-runner, sandbox-runtime) cannot refuse a name under a domain token that resolves to a special-purpose address." };
        var name = new Option<string>("--name") { Description = "Name of the generated objects (a DNS-1123 label).", DefaultValueFactory = _ => ExportDefaults.Name, HelpName = "NAME" };
        var ns = new Option<string?>("--namespace") { Description = "Kubernetes namespace of the generated objects.", HelpName = "NAMESPACE" };
        var selector = new Option<string[]>("--selector") { Description = "Workload label KEY=VALUE the policy applies to (repeatable; default: every pod of the namespace).", HelpName = "KEY=VALUE", AllowMultipleArgumentsPerToken = false };
        var roleLabel = new Option<string?>("--role-label") { Description = "For a lock file with [role NAME] sections (cilium, istio): one object set per role, selecting workloads labelled KEY=NAME; the default section's objects select workloads of no role.", HelpName = "KEY" };
        var command = new Command("export", "Compile the lock file for another engine, never wider than it. Exit 1 if a token cannot be expressed exactly (unless --lossy), 2 if the source is invalid.")
        {
            format, lockPath, fromEnv, output, lossy, ports, unguarded, name, ns, selector, roleLabel,
        };
        command.SetAction(parse => Run(context, new Request(
            parse.GetValue(format)!, parse.GetValue(lockPath), parse.GetValue(fromEnv), parse.GetValue(output), parse.GetValue(lossy),
            parse.GetValue(ports), parse.GetValue(unguarded), parse.GetValue(name)!, parse.GetValue(ns), parse.GetValue(selector) ?? [], parse.GetValue(roleLabel))));
        return command;
    }

    private sealed record Request(string Format, string? Lock, bool FromEnv, string? Output, bool Lossy, string? Ports, bool Unguarded, string Name, string? Namespace, string[] Selector, string? RoleLabel = null);

    private static int Run(CliContext ctx, Request request)
    {
        var exporter = PolicyExporters.Find(request.Format)!;
        if (!TryOptions(ctx, request, out var options))
        {
            return ExitCodes.UsageOrDenied;
        }

        // A lock file with [role] sections is exported per role (ExportCommand.Roles.cs), or refused.
        if (RunRoles(ctx, request, exporter, options) is { } rolesExit)
        {
            return rolesExit;
        }

        if (!TryReadSource(ctx, request, out var texts, out var source, out var sha))
        {
            return ExitCodes.Validation;
        }

        // The policy's own list parser, so that a set covering a whole family is refused here as a /0 is.
        var tokens = AllowlistTokens.Parse(texts, out var rejected);
        bool invalid = !rejected.IsEmpty;
        foreach (var error in rejected)
        {
            ctx.Error.WriteLine(CliText.Clean($"egress-policy export: {source}: {error.Message}"));
        }

        if (invalid || tokens.IsEmpty)
        {
            ctx.Error.WriteLine(tokens.IsEmpty && !invalid
                ? $"egress-policy export: {source} holds no token; nothing to export"
                : $"egress-policy export: {source} has invalid tokens; fix them first (nothing exported)");
            return ExitCodes.Validation;
        }

        var result = PolicyExport.Run(exporter, tokens, options with { Source = source, SourceSha256 = sha });
        return Emit(ctx, request, exporter, source, result);
    }

    private static int Emit(CliContext ctx, Request request, PolicyExporter exporter, string source, ExportResult result)
    {
        if (!result.Succeeded)
        {
            ctx.Error.WriteLine($"egress-policy export: {result.Errors.Length} token(s) of {source} cannot be expressed exactly in {exporter.Name} (nothing exported; --lossy drops them):");
            foreach (var issue in result.Errors)
            {
                ctx.Error.WriteLine(CliText.Clean($"  - {issue}"));
            }

            return ExitCodes.UsageOrDenied;
        }

        foreach (var dropped in result.Dropped)
        {
            ctx.Error.WriteLine(CliText.Clean($"egress-policy export: dropped (--lossy, narrower) {dropped}"));
        }

        foreach (var note in result.Notes)
        {
            ctx.Error.WriteLine(CliText.Clean($"egress-policy export: narrower: {note}"));
        }

        if (request.Output is { } path)
        {
            var full = ctx.FullPath(path);
            try
            {
                AtomicFile.WriteAllText(full, result.Text);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                ctx.Error.WriteLine(CliText.Clean($"egress-policy export: {Egress.Policy.FileSystem.FileErrors.Describe("write", "--output file", full, ex)}"));
                return ExitCodes.UsageOrDenied;
            }

            ctx.Error.WriteLine($"egress-policy export: wrote {full} ({exporter.Name})");
        }
        else
        {
            ctx.Out.Write(result.Text);
        }

        return ExitCodes.Success;
    }

    private static bool TryReadSource(CliContext ctx, Request request, out IReadOnlyList<string> tokens, out string source, out string? sha)
    {
        tokens = [];
        sha = null;
        var options = ctx.ReadOptions();
        bool envSet = ctx.Environment(EgressEnvironment.Allowlist) is not null;
        string? lockFile = request.FromEnv ? null
            : request.Lock is { } explicitLock ? ctx.FullPath(explicitLock)
            : LockFile.Discover(options, ctx.WorkingDirectory).Path;
        if (lockFile is null)
        {
            if (!request.FromEnv && !envSet)
            {
                source = "(none)";
                ctx.Error.WriteLine($"egress-policy export: no lock file ({EgressEnvironment.LockFile}, ./{EgressDefaults.LockFileName}) and {EgressEnvironment.Allowlist} is not set; nothing to export");
                return false;
            }

            source = EgressEnvironment.Allowlist;
            tokens = options.Allowlist;
            sha = Sha256(string.Join('\n', options.Allowlist.Distinct().Order(StringComparer.Ordinal)));
            ctx.Error.WriteLine($"egress-policy export: tokens from {EgressEnvironment.Allowlist} ({(request.FromEnv ? "--from-env" : "no lock file found")}), {tokens.Count} token(s)");
            return true;
        }

        source = lockFile;
        try
        {
            // The lock reader's own safe read: no symlink, no FIFO or device, bounded.
            var bytes = LockFile.ReadBytes(lockFile);

            sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
            tokens = LockFile.Parse(Encoding.UTF8.GetString(bytes));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ctx.Error.WriteLine(CliText.Clean($"egress-policy export: {Egress.Policy.FileSystem.FileErrors.Describe("read", "lock file", lockFile, ex)}"));
            return false;
        }

        ctx.Error.WriteLine($"egress-policy export: tokens from lock file {lockFile} (sha256 {sha}), {tokens.Count} token(s); the lock file wins over {EgressEnvironment.Allowlist}");
        if (envSet)
        {
            var (added, removed) = LockFile.Diff(options.Allowlist, tokens);
            if (!added.IsEmpty || !removed.IsEmpty)
            {
                ctx.Error.WriteLine($"egress-policy export: warning: {EgressEnvironment.Allowlist} differs from the lock file ({added.Length} added, {removed.Length} removed); exporting the lock file");
            }
        }

        return true;
    }

    private static bool TryOptions(CliContext ctx, Request request, out ExportOptions options)
    {
        options = new ExportOptions { Lossy = request.Lossy, UnguardedDomains = request.Unguarded };
        if (!DnsLabel().IsMatch(request.Name))
        {
            ctx.Error.WriteLine(CliText.Bounded($"egress-policy export: --name '{request.Name}' must be a DNS-1123 label (lower-case letters, digits, '-', at most 63)"));
            return false;
        }

        if (request.Namespace is { } ns && !DnsLabel().IsMatch(ns))
        {
            ctx.Error.WriteLine(CliText.Bounded($"egress-policy export: --namespace '{ns}' must be a DNS-1123 label"));
            return false;
        }

        var ports = ImmutableArray.CreateBuilder<int>();
        foreach (var item in (request.Ports ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
            {
                ctx.Error.WriteLine(CliText.Bounded($"egress-policy export: --ports: '{item}' is not a port (1-65535)"));
                return false;
            }

            ports.Add(port);
        }

        var labels = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var pair in request.Selector)
        {
            int eq = pair.IndexOf('=');
            if (eq <= 0 || !LabelKey().IsMatch(pair[..eq]) || !LabelValue().IsMatch(pair[(eq + 1)..]) || !labels.TryAdd(pair[..eq], pair[(eq + 1)..]))
            {
                ctx.Error.WriteLine(CliText.Bounded($"egress-policy export: --selector '{pair}' must be KEY=VALUE with a Kubernetes label key and value, each key once"));
                return false;
            }
        }

        options = options with { Name = request.Name, Namespace = request.Namespace, Ports = ports.ToImmutable(), Selector = labels.ToImmutable() };
        return true;
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex("^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex LabelKey();

    [GeneratedRegex("^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")]
    private static partial Regex LabelValue();
}

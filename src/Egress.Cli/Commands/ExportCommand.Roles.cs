using System.Security.Cryptography;
using System.Text;
using Egress.Export;
using Egress.Policy.FileSystem;
using Egress.Policy.Locking;
using Egress.Policy.Roles;

namespace Egress.Cli.Commands;

/// <summary><c>export</c> of a lock file with <c>[role NAME]</c> sections: one object set per role (<c>--role-label</c>), never the sections flattened.</summary>
internal static partial class ExportCommand
{
    // Null when the source is a plain lock file (or the environment) and no --role-label was given: the ordinary export runs.
    private static int? RunRoles(CliContext ctx, Request request, PolicyExporter exporter, ExportOptions options)
    {
        string? lockFile = request.FromEnv ? null
            : request.Lock is { } explicitLock ? ctx.FullPath(explicitLock)
            : LockFile.Discover(ctx.ReadOptions(), ctx.WorkingDirectory).Path;
        byte[] bytes;
        try
        {
            bytes = lockFile is null ? [] : LockFile.ReadBytes(lockFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The ordinary path reports an unreadable lock file (or --role-label below, when there is none to read).
            return request.RoleLabel is null ? null : Refuse(ctx, $"--role-label: {FileErrors.Describe("read", "lock file", lockFile!, ex)}", ExitCodes.Validation);
        }

        var text = Encoding.UTF8.GetString(bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? bytes.AsSpan(Encoding.UTF8.Preamble.Length) : bytes);
        bool roles = lockFile is not null && RoleFile.HasRoleSyntax(text);
        if (request.RoleLabel is null)
        {
            return roles
                ? Refuse(ctx, $"{lockFile} has [role] sections: export one object set per role with --role-label KEY ({string.Join(", ", RoleExport.Targets)}); flattening them would give every workload every role's hosts", ExitCodes.Validation)
                : null;
        }

        if (!roles)
        {
            return Refuse(ctx, $"--role-label needs a lock file with [role NAME] sections; {lockFile ?? "the environment's allowlist"} has none", ExitCodes.UsageOrDenied);
        }

        if (!LabelKey().IsMatch(request.RoleLabel))
        {
            return Refuse(ctx, $"--role-label '{request.RoleLabel}' must be a Kubernetes label key (e.g. egress-policy.io/role)", ExitCodes.UsageOrDenied);
        }

        var content = RoleFile.Parse(text);
        if (!content.Problems.IsEmpty)
        {
            foreach (var problem in content.Problems)
            {
                ctx.Error.WriteLine(CliText.Clean($"egress-policy export: {problem.Describe(lockFile!)}"));
            }

            return Refuse(ctx, $"{lockFile} has invalid lines; fix them first (nothing exported)", ExitCodes.Validation);
        }

        string sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        ctx.Error.WriteLine($"egress-policy export: roles from lock file {lockFile} (sha256 {sha}): {content.Roles.Length} role(s) and the default, one object set each, label {request.RoleLabel}");
        var result = RoleExport.Run(exporter, content, options with { Source = lockFile!, SourceSha256 = sha }, request.RoleLabel);
        return Emit(ctx, request, exporter, lockFile!, result);
    }

    private static int Refuse(CliContext ctx, string message, int exit)
    {
        ctx.Error.WriteLine(CliText.Bounded("egress-policy export: " + message));
        return exit;
    }
}

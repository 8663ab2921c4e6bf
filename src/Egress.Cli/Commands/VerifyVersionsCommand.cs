using System.Collections.Immutable;
using System.CommandLine;
using System.Text;
using Egress.Cli.Governance;
using Egress.Policy.Configuration;
using Egress.Policy.Verification;

namespace Egress.Cli.Commands;

/// <summary>
/// <c>verify-versions --requirements FILE</c>: the security tooling the repository pins (dotnet tools in the
/// tool manifest, analyzer and other packages in <c>Directory.Packages.props</c>) is at or above its floor.
/// The seed's <c>tools/verify_versions.py</c>, for .NET.
/// </summary>
internal static class VerifyVersionsCommand
{
    /// <summary>Exit code when a floor is not met, a floored tool is missing, or an input is malformed.</summary>
    public const int FailedExitCode = 2;

    private const string DefaultToolManifest = ".config/dotnet-tools.json";
    private const string DefaultPackagesProps = "Directory.Packages.props";
    private const string Title = "Version floor";

    public static Command Create(CliContext context)
    {
        var requirements = new Option<string>("--requirements") { Description = "Floors file: one 'name>=version' a line, '#' comments (e.g. eng/requirements-security.txt).", HelpName = "FILE", Required = true };
        var manifest = new Option<string?>("--tool-manifest") { Description = $"dotnet tool manifest (default: {DefaultToolManifest}, skipped when absent).", HelpName = "FILE" };
        var props = new Option<string?>("--packages-props") { Description = $"Central package versions (default: {DefaultPackagesProps}, skipped when absent).", HelpName = "FILE" };
        var command = new Command(
            "verify-versions",
            "Fail when security tooling is below its version floor or missing (prevents downgrades). " +
            $"Exit codes: 0 every floor met; 1 usage error; {FailedExitCode} a floor not met, a floored tool missing or unpinned, or an input file malformed.")
        {
            requirements,
            manifest,
            props,
        };
        command.SetAction(parse => Run(context, parse.GetValue(requirements)!, parse.GetValue(manifest), parse.GetValue(props)));
        return command;
    }

    private static int Run(CliContext ctx, string requirements, string? manifest, string? props)
    {
        bool github = string.Equals(ctx.Environment(EgressEnvironment.GitHubActions), "true", StringComparison.OrdinalIgnoreCase);
        ImmutableArray<VersionFloor> floors;
        var pins = new List<PinnedPackage>();
        var sources = new List<string>();
        try
        {
            floors = RequirementsFile.Read(ctx.FullPath(requirements), requirements);
            ReadPins(ctx, manifest, DefaultToolManifest, ToolingInventory.ReadToolManifest, pins, sources);
            ReadPins(ctx, props, DefaultPackagesProps, ToolingInventory.ReadPackagesProps, pins, sources);
        }
        catch (GovernanceInputException ex)
        {
            ctx.Out.WriteLine("Version verification FAILED:");
            ctx.Out.WriteLine($"  - {ex.Message}");
            if (github)
            {
                ctx.Out.WriteLine(WorkflowCommand.Format("error", Title, ex.Reason, ex.File, ex.Line));
            }

            return FailedExitCode;
        }

        var checks = VersionVerifier.Verify(floors, pins);
        var failures = checks.Where(c => !c.Passed).ToList();
        ctx.Out.WriteLine(failures.Count == 0 ? "Version verification PASSED" : "Version verification FAILED:");
        foreach (var check in failures)
        {
            ctx.Out.WriteLine($"  - {check.Message}");
        }

        ctx.Out.WriteLine($"{floors.Length} floor(s) from {requirements}; pins read from {(sources.Count == 0 ? "no file" : string.Join(", ", sources))}");
        foreach (var check in checks.Where(c => c.Passed))
        {
            ctx.Out.WriteLine($"  ok {check.Message}");
        }

        if (github)
        {
            foreach (var check in failures)
            {
                ctx.Out.WriteLine(check.Pin is { } pin
                    ? WorkflowCommand.Format("error", Title, check.Message, pin.File, pin.Line)
                    : WorkflowCommand.Format("error", Title, check.Message, check.Floor.File, check.Floor.Line));
            }

            GitHubActionsReporter.AppendStepSummary(ctx.Environment(EgressEnvironment.GitHubStepSummary), RenderMarkdown(checks));
        }

        ctx.WriteToolingMetrics(checks.Length, failures.Count);
        return failures.Count == 0 ? ExitCodes.Success : FailedExitCode;
    }

    private static void ReadPins(
        CliContext ctx, string? given, string fallback, Func<string, string, ImmutableArray<PinnedPackage>> read,
        List<PinnedPackage> pins, List<string> sources)
    {
        string display = given ?? fallback;
        string full = ctx.FullPath(display);
        if (given is null && !File.Exists(full))
        {
            return;
        }

        pins.AddRange(read(full, display));
        sources.Add(display);
    }

    private static string RenderMarkdown(ImmutableArray<VersionCheck> checks)
    {
        var sb = new StringBuilder();
        bool passed = checks.All(c => c.Passed);
        sb.Append("## Security tooling version floors: ").Append(passed ? "PASSED ✅" : "FAILED ❌").Append("\n\n");
        sb.Append("| tool | pinned | floor | status |\n|---|---|---|---|\n");
        foreach (var c in checks)
        {
            sb.Append("| ").Append(c.Floor.Name).Append(" | ").Append(c.Pin?.VersionText ?? "—").Append(" | ")
              .Append(c.Floor.Minimum.Text).Append(" | ").Append(c.Status).Append(" |\n");
        }

        return sb.Append('\n').ToString();
    }
}

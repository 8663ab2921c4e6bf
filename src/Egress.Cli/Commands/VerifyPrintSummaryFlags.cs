using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Policy.Events;
using Egress.Policy.FileSystem;
using Egress.Policy.Summary;
using Egress.Policy.Tokens;
using Egress.Policy.Verification;

namespace Egress.Cli.Commands;

/// <summary>
/// The root command's own flags (kept from the seed module): <c>--verify</c> checks the policy against its
/// rules, <c>--print [--json]</c> prints the effective configuration, metrics and recent events, and
/// <c>--summary-out PATH</c> writes <c>egress-summary.json</c>; with none of them the root prints its help.
/// </summary>
internal static class VerifyPrintSummaryFlags
{
    public static void Attach(RootCommand root, CliContext context)
    {
        var verify = new Option<bool>("--verify") { Description = "Verify the policy: enforcement on, allowlist not empty, no wildcard or invalid token, allowlist = lock file, no blocked events; exit 2/3/4 on failure in CI (warnings outside CI)." };
        var print = new Option<bool>("--print") { Description = "Print the effective configuration." };
        var json = new Option<bool>("--json") { Description = "With --print: print JSON." };
        var summaryOut = new Option<string?>("--summary-out") { Description = "Write egress-summary.json (atomically) to this path.", HelpName = "PATH" };
        root.Options.Add(verify);
        root.Options.Add(print);
        root.Options.Add(json);
        root.Options.Add(summaryOut);
        root.SetAction(parse => Run(
            context,
            parse.GetValue(verify),
            parse.GetValue(print),
            parse.GetValue(json),
            parse.GetValue(summaryOut),
            () => parse.RootCommandResult.Command.Parse("--help").Invoke(new InvocationConfiguration { Output = context.Out, Error = context.Error })));
    }

    private static int Run(CliContext ctx, bool verify, bool print, bool json, string? summaryOut, Func<int> showHelp)
    {
        if (json && !print)
        {
            ctx.Error.WriteLine("egress-policy: --json goes with --print");
            return ExitCodes.UsageOrDenied;
        }

        if (!verify && !print && summaryOut is null)
        {
            return showHelp();
        }

        using var policy = ctx.CreatePolicy();
        EventStatistics events = PolicyVerifier.CollectEvents(policy);
        VerificationResult? result = null;
        if (verify || summaryOut is not null)
        {
            result = PolicyVerifier.Verify(policy, events, ctx.WorkingDirectory);
        }

        int exit = ExitCodes.Success;
        if (verify)
        {
            WriteVerification(ctx, policy.Options, result!, events);
            ctx.WriteVerificationMetrics(result!);
            exit = result!.ExitCode;
        }

        if (print)
        {
            if (json)
            {
                PrintJson(ctx, policy, events, result);
            }
            else
            {
                PrintText(ctx, policy, events);
            }

            if (events.JournalError is { } journalError)
            {
                ctx.Error.WriteLine(CliText.Clean($"egress-policy: warning: {journalError}"));
            }
        }

        if (summaryOut is not null)
        {
            var path = ctx.FullPath(summaryOut);
            try
            {
                SummaryWriter.Write(path, EgressSummary.Create(policy.Options, events, result!));
                ctx.Error.WriteLine($"egress-policy: summary written to {path}");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                ctx.Error.WriteLine(CliText.Clean($"egress-policy: {FileErrors.Describe("write", "summary", path, ex)}"));
                exit = Math.Max(exit, ExitCodes.UsageOrDenied);
            }
        }

        return exit;
    }

    private static void WriteVerification(CliContext ctx, EgressOptions options, VerificationResult result, EventStatistics events)
    {
        ctx.Out.WriteLine(result.Headline);
        foreach (var error in result.Errors)
        {
            ctx.Out.WriteLine(CliText.Clean($"  - {error.Message}"));
        }

        if (!result.Warnings.IsEmpty)
        {
            ctx.Out.WriteLine("Warnings:");
            foreach (var warning in result.Warnings)
            {
                ctx.Out.WriteLine(CliText.Clean($"  - {warning.Message}"));
            }
        }

        if (options.IsGitHubActions)
        {
            GitHubActionsReporter.WriteAnnotations(ctx.Out, result);
            var stepSummary = ctx.Environment(EgressEnvironment.GitHubStepSummary);
            GitHubActionsReporter.AppendStepSummary(
                string.IsNullOrWhiteSpace(stepSummary) ? null : ctx.FullPath(stepSummary), GitHubActionsReporter.RenderMarkdown(result, events));
        }
    }

    /// <summary>How many recent events the text form lists (the JSON form lists all it kept).</summary>
    private const int TextRecentEvents = 10;

    private static void PrintText(CliContext ctx, EgressPolicy policy, EventStatistics events)
    {
        var o = policy.Options;

        // The upstream module's lines first, in its order, so scripts written against it keep working.
        var lines = new List<string>
        {
            $"Enforcement: {(o.Enforce ? "ENABLED" : "DISABLED")}",
            $"Allowlist: {(o.Allowlist.IsEmpty ? "(empty: everything denied)" : string.Join(", ", o.Allowlist))}",
            $"Allowed: {events.AllowedTotal.ToString(CultureInfo.InvariantCulture)}",
            $"Blocked: {events.BlockedTotal.ToString(CultureInfo.InvariantCulture)}",
            $"Total: {events.Total.ToString(CultureInfo.InvariantCulture)}",
        };
        var recent = events.Recent.TakeLast(TextRecentEvents).ToList();
        lines.Add(recent.Count == 0 ? "Recent events: (none)" : $"Recent events (last {recent.Count.ToString(CultureInfo.InvariantCulture)}):");
        foreach (var evt in recent)
        {
            var when = DateTimeOffset.FromUnixTimeMilliseconds(evt.Timestamp).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
            lines.Add(CliText.Bounded($"  {when} {evt.Action} {evt.Authority} {evt.Reason}"));
        }

        // Our extra detail after them.
        lines.Add("Egress policy configuration");
        lines.Add($"  {EgressEnvironment.Enforce}={(o.Enforce ? "1 (enforce)" : "0 (audit mode: nothing is blocked)")}");
        lines.Add($"  {EgressEnvironment.Allowlist}={string.Join(",", o.Allowlist)}{(o.Allowlist.IsEmpty ? " (empty: everything denied)" : string.Empty)}");
        lines.Add($"  {EgressEnvironment.Log}={o.LogLevel} {EgressEnvironment.LogFormat}={(o.LogFormat == EgressLogFormat.Json ? "json" : "text")}");
        lines.Add($"  {EgressEnvironment.OtelEnable}={B(o.OtelEnable)} {EgressEnvironment.OtelExporter}={(o.OtelExporter == OtlpExporterProtocol.Grpc ? "grpc" : "http")} {EgressEnvironment.OtelEndpoint}={o.OtelEndpoint}");
        lines.Add($"  {EgressEnvironment.PromEnable}={B(o.PromEnable)} {EgressEnvironment.PromPort}={o.PromPort.ToString(CultureInfo.InvariantCulture)}");
        lines.Add($"  {EgressEnvironment.CiFailOnBlocked}={B(o.CiFailOnBlocked)} {EgressEnvironment.CiAllowDisable}={B(o.CiAllowDisable)} {EgressEnvironment.CiFailOnDrift}={B(o.CiFailOnDrift)}");
        lines.Add($"  {EgressEnvironment.LockFile}={o.LockFile ?? "(discover)"} {EgressEnvironment.EventsFile}={o.EventsFile ?? "(unset)"} {EgressEnvironment.RecentEvents}={o.RecentEvents}");
        lines.Add($"  CI={(o.IsCi ? "yes" : "no")} GitHub Actions={(o.IsGitHubActions ? "yes" : "no")}");
        lines.Add("Tokens:");
        foreach (var token in policy.Matcher.Tokens)
        {
            lines.Add($"  {token.Text,-32} {Describe(token)}");
        }

        foreach (var error in policy.TokenErrors)
        {
            lines.Add($"  {error.Token,-32} INVALID: {error.Message}");
        }

        foreach (var warning in o.Warnings)
        {
            lines.Add($"warning: {warning}");
        }

        foreach (var line in lines)
        {
            ctx.Out.WriteLine(CliText.Clean(line));
        }
    }

    private static void PrintJson(CliContext ctx, EgressPolicy policy, EventStatistics events, VerificationResult? result)
    {
        var printed = new PrintedPolicy
        {
            Config = SummaryConfig.From(policy.Options, result?.LockFilePath),
            Metrics = SummaryMetrics.From(events),
            RecentEvents = [.. events.Recent],
        };
        ctx.Out.WriteLine(JsonSerializer.Serialize(printed, CliJsonContext.Default.PrintedPolicy));
        foreach (var warning in policy.Options.Warnings)
        {
            ctx.Error.WriteLine($"egress-policy: warning: {warning}");
        }
    }

    private static string Describe(EgressToken token) => token.Kind switch
    {
        EgressTokenKind.Keyword => "keyword (any host containing it)",
        EgressTokenKind.Domain => $"domain (and subdomains){PortText(token)}",
        EgressTokenKind.ExactHost => $"exact host{PortText(token)}",
        _ => $"IP/CIDR {token.Value}{PortText(token)}",
    };

    private static string PortText(EgressToken token) => token.Port == 0 ? string.Empty : $", port {token.Port}";

    private static string B(bool value) => value ? "1" : "0";
}

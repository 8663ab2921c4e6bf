using System.CommandLine;
using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using Egress.Policy;
using Egress.Policy.Events;
using Egress.Policy.Summary;
using Egress.Policy.Verification;
using Egress.Proxy;

namespace Egress.Cli.Commands;

/// <summary>
/// <c>run [--summary-out F] [--json] -- &lt;command&gt; [args]</c>: run a program behind the egress proxy on an
/// ephemeral loopback port, then report what it reached.
/// </summary>
internal static class RunCommand
{
    /// <summary>Exit code when the command cannot be started (as shells use).</summary>
    public const int CommandNotFound = 127;

    private static readonly string[] ProxyVariables = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"];

    public static Command Create(CliContext context)
    {
        var commandLine = new Argument<string[]>("command") { Description = "The program and its arguments (after --).", Arity = ArgumentArity.OneOrMore };
        var summaryOut = new Option<string?>("--summary-out") { Description = "Write egress-summary.json here when the command exits.", HelpName = "PATH" };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON (on stderr, like the text report)." };
        var flags = new ProxyFlags();
        var command = new Command("run", "Run a command behind the egress proxy (HTTP_PROXY/HTTPS_PROXY/ALL_PROXY set, NO_PROXY cleared) and report the hosts it reached. " +
            "Exits with the command's exit code, or 4 in CI when EGRESS_CI_FAIL_ON_BLOCKED=1 and something was blocked.")
        {
            commandLine,
            summaryOut,
            json,
        };
        flags.AddTo(command);
        command.SetAction((parse, ct) => RunAsync(context, parse, parse.GetValue(commandLine) ?? [], parse.GetValue(summaryOut), parse.GetValue(json), flags));
        return command;
    }

    private static async Task<int> RunAsync(CliContext ctx, ParseResult parse, string[] commandLine, string? summaryOut, bool json, ProxyFlags flags)
    {
        var options = flags.Read(parse, new IPEndPoint(IPAddress.Loopback, 0), ctx.Error);
        if (options is null || commandLine.Length == 0)
        {
            return ExitCodes.UsageOrDenied;
        }

        using var policy = ctx.CreatePolicy();
        var run = new EventStatistics(0);
        var gate = new Lock();
        policy.Events.Recorded += evt =>
        {
            if (evt.Source == "proxy")
            {
                lock (gate)
                {
                    run.Add(evt);
                }
            }
        };

        int exitCode;
        await using (var server = new EgressProxyServer(policy, options))
        {
            server.Start();
            string proxyUrl = $"http://{server.LocalEndPoint}";
            var started = StartChild(ctx, commandLine, proxyUrl);
            if (started is null)
            {
                return CommandNotFound;
            }

            using var child = started;
            exitCode = await WaitWithSignalsAsync(child).ConfigureAwait(false);
            await server.StopAsync().ConfigureAwait(false);
        }

        EventStatistics snapshot;
        lock (gate)
        {
            snapshot = run;
        }

        var report = new RunReport(exitCode, policy.Options.Enforce, snapshot.AllowedHosts, snapshot.BlockedHosts, snapshot.WouldBlockHosts, snapshot.BlockedTotal);
        ctx.Error.Write(json ? report.ToJson() : report.ToText(commandLine[0]));
        if (summaryOut is not null && !WriteSummary(ctx, policy, summaryOut))
        {
            return ExitCodes.UsageOrDenied;
        }

        if (policy.Options.IsGitHubActions)
        {
            GitHubActionsReporter.WriteBlockedHostAnnotations(ctx.Out, snapshot.BlockedHosts);
        }

        if (policy.Options.IsCi && policy.Options.CiFailOnBlocked && snapshot.BlockedTotal > 0)
        {
            ctx.Error.WriteLine($"egress-policy run: {snapshot.BlockedTotal} blocked request(s) and EGRESS_CI_FAIL_ON_BLOCKED=1: exit {ExitCodes.Blocked}");
            return ExitCodes.Blocked;
        }

        return exitCode;
    }

    private static Process? StartChild(CliContext ctx, string[] commandLine, string proxyUrl)
    {
        var psi = new ProcessStartInfo(commandLine[0]) { UseShellExecute = false, WorkingDirectory = ctx.WorkingDirectory };
        foreach (var arg in commandLine.AsSpan(1))
        {
            psi.ArgumentList.Add(arg);
        }

        foreach (var name in ProxyVariables)
        {
            psi.Environment[name] = proxyUrl;
        }

        psi.Environment.Remove("NO_PROXY");
        psi.Environment.Remove("no_proxy");
        try
        {
            return Process.Start(psi);
        }
        catch (Win32Exception ex)
        {
            ctx.Error.WriteLine($"egress-policy run: cannot start '{commandLine[0]}': {ex.Message}");
            return null;
        }
    }

    /// <summary>
    /// Waits for the child, forwarding SIGTERM and SIGHUP. SIGINT and SIGQUIT normally reach the child from
    /// the terminal already (same process group), so they are forwarded only if the child is still running
    /// two seconds later (e.g. <c>kill -INT</c> sent to this process alone).
    /// </summary>
    private static async Task<int> WaitWithSignalsAsync(Process child)
    {
        void Forward(PosixSignalContext signal)
        {
            signal.Cancel = true;
            if (signal.Signal is PosixSignal.SIGTERM or PosixSignal.SIGHUP)
            {
                ChildSignals.Send(child.Id, signal.Signal);
                return;
            }

            var which = signal.Signal;
            _ = Task.Delay(TimeSpan.FromSeconds(2)).ContinueWith(_ =>
            {
                if (!child.HasExited)
                {
                    ChildSignals.Send(child.Id, which);
                }
            }, TaskScheduler.Default);
        }

        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Forward);
        using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Forward);
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, Forward);
        using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Forward);
        await child.WaitForExitAsync().ConfigureAwait(false);
        return child.ExitCode;
    }

    private static bool WriteSummary(CliContext ctx, EgressPolicy policy, string path)
    {
        var events = PolicyVerifier.CollectEvents(policy);
        var verification = PolicyVerifier.Verify(policy, events, ctx.WorkingDirectory);
        try
        {
            SummaryWriter.Write(ctx.FullPath(path), EgressSummary.Create(policy.Options, events, verification));
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ctx.Error.WriteLine($"egress-policy run: cannot write summary {path}: {ex.Message}");
            return false;
        }
    }
}

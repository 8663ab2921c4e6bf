using System.CommandLine;
using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Egress.Isolation;
using Egress.Isolation.Gateway;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Policy.Events;
using Egress.Policy.Summary;
using Egress.Policy.Verification;
using Egress.Proxy;
using Egress.Proxy.Transparent;

namespace Egress.Cli.Commands;

/// <summary>
/// <c>run [--isolation netns|none] [--summary-out F] [--json] -- &lt;command&gt; [args]</c>: run a program where
/// every connection it makes is decided by the policy, then report what it reached. With <c>netns</c> (the
/// default) the command runs in new network, PID and mount namespaces whose only way out is this process
/// (docs/isolation.md); with <c>none</c> it only gets HTTP(S)_PROXY pointing at the proxy.
/// </summary>
internal static class RunCommand
{
    /// <summary>Exit code when the command cannot be started (as shells use).</summary>
    public const int CommandNotFound = 127;

    private static readonly string[] ProxyVariables = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"];

    /// <summary>
    /// Variables of run itself the command must not see: the journal's HMAC key, so the child cannot sign
    /// forged lines, and the gateway's upstream-proxy credentials. Add any further secret of run here.
    /// </summary>
    internal static readonly string[] SecretVariables = [EgressEnvironment.EventsKey, EgressEnvironment.UpstreamProxyAuth];

    /// <summary>What the command's environment loses: <see cref="SecretVariables"/>, and the socket switch this process set for itself (SocketEngineTuning).</summary>
    internal static string[] RemovedVariables => SocketEngineTuning.SetByThisProcess ? [.. SecretVariables, SocketEngineTuning.RuntimeVariable] : SecretVariables;

    public static Command Create(CliContext context)
    {
        var commandLine = new Argument<string[]>("command") { Description = "The program and its arguments (after --).", Arity = ArgumentArity.ZeroOrMore };
        var summaryOut = new Option<string?>("--summary-out") { Description = "Write egress-summary.json here when the command exits.", HelpName = "PATH" };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON (on stderr, like the text report)." };
        var isolation = new Option<string?>("--isolation")
        {
            Description = $"netns (default; Linux): run the command in new network, PID and mount namespaces so that every TCP connection, proxy-aware or not, is decided and recorded. " +
                $"none: only set HTTP(S)_PROXY (programs that ignore it are not decided). Also {EgressEnvironment.Isolation}.",
            HelpName = "netns|none",
        };
        var probe = new Option<bool>("--probe")
        {
            Description = "Instead of a command, run canaries inside the isolated child that try every escape route (proxy-ignoring HTTP, curl --noproxy, raw TCP, IPv6, UDP, a DNS TXT query, " +
                "a proxy of its own) against denied targets on this machine's loopback, and print route -> blocked/ESCAPED. Exits 2 if any route escaped or was not decided by the policy.",
        };
        var flags = new ProxyFlags();
        var command = new Command("run", "Run a command where every connection it makes is decided by the policy (isolated in network namespaces by default; HTTP_PROXY/HTTPS_PROXY/ALL_PROXY point at the proxy) and report the hosts it reached. " +
            "Exits with the command's exit code (128+N when signal N ended it), 2 when isolation is unavailable, or 4 in CI when EGRESS_CI_FAIL_ON_BLOCKED=1 and something was blocked.")
        {
            commandLine,
            summaryOut,
            json,
            isolation,
            probe,
        };
        flags.AddTo(command);
        command.SetAction((parse, ct) => RunAsync(context, parse, parse.GetValue(commandLine) ?? [], parse.GetValue(summaryOut), parse.GetValue(json), parse.GetValue(isolation), parse.GetValue(probe), flags));
        return command;
    }

    private static async Task<int> RunAsync(CliContext ctx, ParseResult parse, string[] commandLine, string? summaryOut, bool json, string? isolationFlag, bool probe, ProxyFlags flags)
    {
        var options = flags.Read(parse, new IPEndPoint(IPAddress.Loopback, 0), ctx.Error);
        var isolation = RunIsolationReader.Read(isolationFlag, ctx.Environment, ctx.Error);
        if (options is null || isolation is null)
        {
            return ExitCodes.UsageOrDenied;
        }

        if (probe != (commandLine.Length == 0))
        {
            ctx.Error.WriteLine(probe
                ? "egress-policy run: --probe runs its own canaries; give no command after it"
                : "egress-policy run: give the command to run after --, e.g. egress-policy run -- curl https://example.com/ (or --probe)");
            return ExitCodes.UsageOrDenied;
        }

        if (probe && summaryOut is not null)
        {
            ctx.Error.WriteLine("egress-policy run: --summary-out does not apply to --probe (the probe records nothing of a real run); use --json for a machine-readable result");
            return ExitCodes.UsageOrDenied;
        }

        // Before anything starts: a signal during start-up is held for the command, not lost (RunSignals).
        using var signals = new RunSignals();
        if (probe)
        {
            return await RunProbe.RunAsync(ctx, isolation.Value, options, json, signals).ConfigureAwait(false);
        }

        using var policy = ctx.CreatePolicy();
        var run = new EventStatistics(0);
        var gate = new Lock();
        policy.Events.Recorded += evt =>
        {
            lock (gate)
            {
                run.Add(evt);
            }
        };

        int exitCode;
        await using (var server = new EgressProxyServer(policy, options))
        {
            server.Start();
            int? code = isolation == RunIsolation.Netns
                ? await RunIsolatedAsync(ctx, policy, server, options, commandLine, summaryOut, signals).ConfigureAwait(false)
                : await RunUnisolatedAsync(ctx, server, commandLine, signals).ConfigureAwait(false);
            if (code is null)
            {
                return ExitCodes.Validation;
            }

            exitCode = code.Value;
            await server.StopAsync().ConfigureAwait(false);
        }

        EventStatistics snapshot;
        lock (gate)
        {
            snapshot = run;
        }

        var report = new RunReport(exitCode, policy.Options.Enforce, isolation.Value.Name(), snapshot.AllowedHosts, snapshot.BlockedHosts, snapshot.WouldBlockHosts, snapshot.BlockedTotal);
        ctx.Error.Write(json ? report.ToJson() : report.ToText(commandLine[0]));
        if (summaryOut is not null && !WriteSummary(ctx, policy, summaryOut, isolation.Value))
        {
            return ExitCodes.UsageOrDenied;
        }

        if (policy.Options.IsGitHubActions)
        {
            GitHubActionsReporter.WriteBlockedHostAnnotations(ctx.Out, snapshot.BlockedHosts);
            if (isolation == RunIsolation.None)
            {
                ctx.Out.WriteLine(GitHubActionsReporter.Command("warning", "egress-policy run: not isolated", RunIsolationReader.NotIsolatedWarning));
            }
        }

        if (policy.Options.IsCi && policy.Options.CiFailOnBlocked && snapshot.BlockedTotal > 0)
        {
            ctx.Error.WriteLine($"egress-policy run: {snapshot.BlockedTotal} blocked request(s) and EGRESS_CI_FAIL_ON_BLOCKED=1: exit {ExitCodes.Blocked}");
            return ExitCodes.Blocked;
        }

        return exitCode;
    }

    /// <summary>Printed when <c>run</c> is root because of <c>sudo</c> (the remedy for kernels that refuse unprivileged user namespaces).</summary>
    internal const string RootThroughSudoWarning =
        "running as root through sudo: the command's network is isolated, but the command runs as root (without capabilities) " +
        "and can still write root-owned files (cron jobs, systemd units, shell profiles) and use host daemons' Unix sockets " +
        "(Docker, systemd, tmux) that act outside the isolation; prefer an unprivileged user with user namespaces allowed " +
        "(docs/isolation.md, \"What run does not isolate\")";

    /// <summary>
    /// Runs the command isolated; null (after printing why) when isolation is unavailable. <paramref name="started"/>,
    /// when given, is told the listeners of the namespace once it is set up (run --probe compares their ports with its targets').
    /// </summary>
    internal static async Task<int?> RunIsolatedAsync(CliContext ctx, EgressPolicy policy, EgressProxyServer server, Proxy.ProxyOptions options, string[] commandLine, string? summaryOut, RunSignals signals, Action<IReadOnlyDictionary<string, Socket>>? started = null)
    {
        var readOnly = new List<string>();
        try
        {
            if (policy.Options.EventsFile is { } journal)
            {
                readOnly.Add(EnsureFile(ctx.FullPath(journal)));
            }

            if (summaryOut is not null)
            {
                readOnly.Add(EnsureFile(ctx.FullPath(summaryOut)));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ctx.Error.WriteLine($"egress-policy run: cannot prepare the audit files for isolation: {ex.Message}");
            return null;
        }

        await using var transparent = new TransparentForwarder(policy, options);
        IsolatedProcess isolated;
        try
        {
            isolated = await IsolatedProcess.StartAsync(new IsolationStartInfo
            {
                Command = commandLine,
                AgentCommand = IsolatedProcess.SelfCommand(),
                WorkingDirectory = ctx.WorkingDirectory,
                RemovedVariables = RemovedVariables,
                ReadOnlyPaths = readOnly,
            }).ConfigureAwait(false);
        }
        catch (IsolationException ex)
        {
            ctx.Error.WriteLine($"egress-policy run: cannot isolate the command: {ex.Message}");
            return null;
        }

        if (!isolated.UserNamespace && ctx.Environment("SUDO_UID") is { Length: > 0 })
        {
            ctx.Error.WriteLine("egress-policy run: WARNING: " + RootThroughSudoWarning);
        }

        using (isolated)
        {
            started?.Invoke(isolated.Listeners);

            // DNS answered by the policy, dropped UDP recorded (docs/isolation.md, "DNS" and "UDP").
            await using var resolver = Egress.Isolation.Dns.NamespaceResolver.Start(policy, isolated.Listeners);
            transparent.AddressNames = resolver.NameOf;
            await using var gateway = new IsolationGateway(server, transparent, isolated.Listeners);
            int code = await signals.WaitAsync(
                isolated.WaitForExitAsync(),
                signal => isolated.Signal(SignalNumber(signal)),
                () => false).ConfigureAwait(false);

            // The agent was PID 1: its exit took every process of the namespace with it.
            await gateway.StopAsync().ConfigureAwait(false);
            return code;
        }
    }

    internal static async Task<int?> RunUnisolatedAsync(CliContext ctx, EgressProxyServer server, string[] commandLine, RunSignals signals)
    {
        ctx.Error.WriteLine("egress-policy run: WARNING: " + RunIsolationReader.NotIsolatedWarning);
        using var child = StartChild(ctx, commandLine, $"http://{server.LocalEndPoint}");
        if (child is null)
        {
            return CommandNotFound;
        }

        return await signals.WaitAsync(
            child.WaitForExitAsync().ContinueWith(_ => child.ExitCode, TaskScheduler.Default),
            signal => ChildSignals.Send(child.Id, signal),
            () => child.HasExited).ConfigureAwait(false);
    }

    private static string EnsureFile(string path)
    {
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using (File.Open(path, FileMode.OpenOrCreate, FileAccess.Write))
            {
            }
        }

        return path;
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
        foreach (var name in RemovedVariables)
        {
            psi.Environment.Remove(name);
        }

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

    private static int SignalNumber(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGHUP => 1,
        PosixSignal.SIGINT => 2,
        PosixSignal.SIGQUIT => 3,
        _ => 15,
    };

    private static bool WriteSummary(CliContext ctx, EgressPolicy policy, string path, RunIsolation isolation)
    {
        var events = PolicyVerifier.CollectEvents(policy);
        var verification = PolicyVerifier.Verify(policy, events, ctx.WorkingDirectory);
        var summary = EgressSummary.Create(policy.Options, events, verification) with { Isolation = isolation.Name() };
        if (isolation == RunIsolation.None)
        {
            summary = summary with { Verification = summary.Verification with { Warnings = [.. summary.Verification.Warnings, RunIsolationReader.NotIsolatedWarning] } };
        }

        try
        {
            SummaryWriter.Write(ctx.FullPath(path), summary);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ctx.Error.WriteLine($"egress-policy run: cannot write summary {path}: {ex.Message}");
            return false;
        }
    }
}

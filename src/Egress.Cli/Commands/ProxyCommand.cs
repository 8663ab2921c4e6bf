using System.CommandLine;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Egress.Proxy;

namespace Egress.Cli.Commands;

/// <summary>
/// <c>proxy [--listen ADDR:PORT] [limits]</c>: serve the egress proxy until SIGTERM or Ctrl-C, then drain
/// (stop accepting, let open exchanges and tunnels finish for the shutdown grace, cut the rest) and exit 0.
/// SIGHUP is ignored for now (<see cref="OnHangUp"/> is where a reload will go).
/// </summary>
internal static class ProxyCommand
{
    public static Command Create(CliContext context)
    {
        var listen = new Option<string>("--listen") { Description = $"Address to listen on, host:port or [v6]:port (default {ProxyDefaults.Listen}; port 0 picks one).", DefaultValueFactory = _ => ProxyDefaults.Listen, HelpName = "ADDR:PORT" };
        var flags = new ProxyFlags();
        var command = new Command("proxy", "Serve the egress proxy (HTTP/1.1 CONNECT and absolute-form http://) enforcing the policy; GET /healthz answers ok. On SIGTERM or Ctrl-C it stops accepting, lets open exchanges and tunnels finish for 5 seconds, closes the rest and exits 0; SIGHUP is ignored.")
        {
            listen,
        };
        flags.AddTo(command);
        // A synchronous action on purpose: System.CommandLine gives asynchronous actions only
        // ProcessTerminationTimeout (2 s) after SIGTERM before it exits 143, shorter than the drain. The proxy
        // handles its own signals below and blocks this thread while the server runs on the thread pool.
        command.SetAction(parse => RunAsync(context, parse, parse.GetValue(listen)!, flags).GetAwaiter().GetResult());
        return command;
    }

    private static async Task<int> RunAsync(CliContext ctx, ParseResult parse, string listenText, ProxyFlags flags)
    {
        if (!ProxyOptions.TryParseListen(listenText, out var endPoint))
        {
            ctx.Error.WriteLine($"egress-policy: --listen '{listenText}' is not host:port");
            return ExitCodes.UsageOrDenied;
        }

        var options = flags.Read(parse, endPoint!, ctx.Error);
        if (options is null)
        {
            return ExitCodes.UsageOrDenied;
        }

        using var policy = ctx.CreatePolicy();
        await using var server = new EgressProxyServer(policy, options);
        try
        {
            server.Start();
        }
        catch (SocketException ex)
        {
            ctx.Error.WriteLine($"egress-policy: cannot listen on {endPoint}: {ex.Message}");
            return ExitCodes.UsageOrDenied;
        }

        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnStop(PosixSignalContext signal)
        {
            signal.Cancel = true;
            stop.TrySetResult();
        }

        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnStop);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnStop);
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, signal => OnHangUp(ctx, signal));
        string mode = policy.Options.Enforce ? "enforcing" : "audit mode (nothing blocked)";
        ctx.Out.WriteLine($"egress-policy proxy listening on http://{server.LocalEndPoint}, {mode}, allowlist: {string.Join(',', policy.Options.Allowlist)}");
        ctx.Out.Flush();
        await stop.Task.ConfigureAwait(false);
        ctx.Error.WriteLine($"egress-policy proxy: shutting down; {server.ActiveConnections} open connection(s) get {options.ShutdownGrace.TotalSeconds:0.#} s to finish");
        ctx.Error.Flush();
        await server.StopAsync().ConfigureAwait(false);
        ctx.Error.WriteLine("egress-policy proxy: stopped");
        return ExitCodes.Success;
    }

    // The one place SIGHUP is handled. Ignored for now (documented in docs/proxy.md); a policy reload goes here.
    private static void OnHangUp(CliContext ctx, PosixSignalContext signal)
    {
        signal.Cancel = true;
        ctx.Error.WriteLine("egress-policy proxy: SIGHUP ignored (reloading the policy is not supported yet; restart to change it)");
        ctx.Error.Flush();
    }
}

using System.CommandLine;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Egress.Proxy;

namespace Egress.Cli.Commands;

/// <summary><c>proxy [--listen ADDR:PORT] [limits]</c>: serve the egress proxy until SIGTERM or Ctrl-C.</summary>
internal static class ProxyCommand
{
    public static Command Create(CliContext context)
    {
        var listen = new Option<string>("--listen") { Description = $"Address to listen on, host:port or [v6]:port (default {ProxyDefaults.Listen}; port 0 picks one).", DefaultValueFactory = _ => ProxyDefaults.Listen, HelpName = "ADDR:PORT" };
        var flags = new ProxyFlags();
        var command = new Command("proxy", "Serve the egress proxy (HTTP/1.1 CONNECT and absolute-form http://) enforcing the policy; GET /healthz answers ok. Stops on SIGTERM or Ctrl-C.")
        {
            listen,
        };
        flags.AddTo(command);
        command.SetAction((parse, ct) => RunAsync(context, parse, parse.GetValue(listen)!, flags, ct));
        return command;
    }

    private static async Task<int> RunAsync(CliContext ctx, ParseResult parse, string listenText, ProxyFlags flags, CancellationToken ct)
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
        void OnSignal(PosixSignalContext signal)
        {
            signal.Cancel = true;
            stop.TrySetResult();
        }

        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        await using var cancelled = ct.Register(() => stop.TrySetResult());
        string mode = policy.Options.Enforce ? "enforcing" : "audit mode (nothing blocked)";
        ctx.Out.WriteLine($"egress-policy proxy listening on http://{server.LocalEndPoint}, {mode}, allowlist: {string.Join(',', policy.Options.Allowlist)}");
        ctx.Out.Flush();
        if (server.MaxConnections < options.MaxConnections && parse.GetResult(flags.MaxConnections) is { Implicit: false })
        {
            ctx.Error.WriteLine($"egress-policy proxy: --max-connections {options.MaxConnections} lowered to {server.MaxConnections}, what the descriptor limit holds (raise it with ulimit -n)");
        }

        await stop.Task.ConfigureAwait(false);
        ctx.Error.WriteLine("egress-policy proxy: shutting down");
        await server.StopAsync().ConfigureAwait(false);
        return ExitCodes.Success;
    }
}

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
        var upstream = new Option<string?>("--upstream-proxy") { Description = "Chain allowed connections through this http://host:port proxy: the gateway decides first, then tunnels to the checked address.", HelpName = "URL" };
        var policyFile = new Option<string?>("--policy-file") { Description = "Enforce this lock-format file instead of EGRESS_ALLOWLIST; reloaded on SIGHUP and when it changes (a file that fails the verify rules is rejected, the running policy stays); a bad file at start-up exits 2.", HelpName = "PATH" };
        var command = new Command("proxy", "Serve the egress proxy (HTTP/1.1 CONNECT and absolute-form http://) enforcing the policy; GET /healthz answers ok. Stops on SIGTERM or Ctrl-C.")
        {
            listen,
            policyFile,
            upstream,
        };
        flags.AddTo(command);
        command.SetAction((parse, ct) => RunAsync(context, parse, parse.GetValue(listen)!, flags, parse.GetValue(policyFile), parse.GetValue(upstream), ct));
        return command;
    }

    private static async Task<int> RunAsync(CliContext ctx, ParseResult parse, string listenText, ProxyFlags flags, string? policyFile, string? upstreamProxy, CancellationToken ct)
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

        Egress.Proxy.Gateway.UpstreamProxy? chained = null;
        if (upstreamProxy is not null && !Egress.Proxy.Gateway.UpstreamProxy.TryParse(upstreamProxy, out chained, out var upstreamError))
        {
            ctx.Error.WriteLine(CliText.Bounded($"egress-policy: --upstream-proxy {upstreamError}"));
            return ExitCodes.UsageOrDenied;
        }

        options = options with { UpstreamProxy = chained };

        // Gateway (src/Egress.Proxy/Gateway): a policy file that fails the verify rules at start-up fails closed.
        string? file = policyFile is null ? null : ctx.FullPath(policyFile);
        System.Collections.Immutable.ImmutableArray<string> fileTokens = [];
        string? sha = null;
        if (file is not null && !Egress.Proxy.Gateway.PolicyFile.TryLoad(file, out fileTokens, out sha, out var fileError))
        {
            ctx.Error.WriteLine(CliText.Clean($"egress-policy: --policy-file: {fileError}; not serving"));
            return ExitCodes.Validation;
        }

        using var policy = ctx.CreatePolicy(file is null ? null : ctx.ReadOptions() with { Allowlist = fileTokens });
        using var gateway = new Egress.Proxy.Gateway.GatewayHost(policy, file, sha, ctx.Error);
        await using var server = new EgressProxyServer(gateway.Policies, options with { HealthDetail = gateway.HealthDetail });
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
        await stop.Task.ConfigureAwait(false);
        ctx.Error.WriteLine("egress-policy proxy: shutting down");
        await server.StopAsync().ConfigureAwait(false);
        return ExitCodes.Success;
    }
}

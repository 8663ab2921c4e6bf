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
        var upstream = new Option<string?>("--upstream-proxy") { Description = "Chain allowed connections through this http://host:port proxy: the gateway decides first, then tunnels to the checked address. Credentials for it: EGRESS_UPSTREAM_PROXY_AUTH=user:password (preferred to user:password@ in the URL, which the process list shows).", HelpName = "URL" };
        var policyFile = new Option<string?>("--policy-file") { Description = "Enforce this lock-format file instead of EGRESS_ALLOWLIST, optionally with [role NAME] sections giving clients (by source address, Proxy-Authorization user or TLS client-certificate subject) their own allowlists; reloaded on SIGHUP and when it changes (a file that fails the verify rules is rejected, the running policy stays); a bad file at start-up exits 2.", HelpName = "PATH" };
        var tlsCert = new Option<string?>("--tls-cert") { Description = "Serve clients over TLS with this PEM certificate (chain after it); needs --tls-key.", HelpName = "PEM" };
        var tlsKey = new Option<string?>("--tls-key") { Description = "PEM private key of --tls-cert.", HelpName = "PEM" };
        var clientCa = new Option<string?>("--client-ca") { Description = "Require TLS client certificates that chain to these PEM CA certificates (no revocation check); their subject can select a role (match subject).", HelpName = "PEM" };
        var command = new Command("proxy", "Serve the egress proxy (HTTP/1.1 CONNECT and absolute-form http://) enforcing the policy; GET /healthz answers ok. On SIGTERM or Ctrl-C it stops accepting, lets open exchanges and tunnels finish for 5 seconds, closes the rest and exits 0; SIGHUP reloads --policy-file (without one there is nothing to reload).")
        {
            listen,
            policyFile,
            upstream,
            tlsCert,
            tlsKey,
            clientCa,
        };
        flags.AddTo(command);
        // A synchronous action on purpose: System.CommandLine gives asynchronous actions only
        // ProcessTerminationTimeout (2 s) after SIGTERM before it exits 143, shorter than the drain. The proxy
        // handles its own signals below and blocks this thread while the server runs on the thread pool.
        command.SetAction(parse => RunAsync(context, parse, parse.GetValue(listen)!, flags, parse.GetValue(policyFile), parse.GetValue(upstream), (parse.GetValue(tlsCert), parse.GetValue(tlsKey), parse.GetValue(clientCa))).GetAwaiter().GetResult());
        return command;
    }

    private static async Task<int> RunAsync(CliContext ctx, ParseResult parse, string listenText, ProxyFlags flags, string? policyFile, string? upstreamProxy, (string? Cert, string? Key, string? ClientCa) tlsFiles)
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
        if (upstreamProxy is not null && !Egress.Proxy.Gateway.UpstreamProxy.TryParse(upstreamProxy, out chained, out var upstreamError, ctx.Environment(Egress.Policy.Configuration.EgressEnvironment.UpstreamProxyAuth)))
        {
            ctx.Error.WriteLine(CliText.Bounded($"egress-policy: --upstream-proxy {upstreamError}"));
            return ExitCodes.UsageOrDenied;
        }

        if (!GatewayTlsFlags.TryLoad(ctx, tlsFiles, out var tls))
        {
            return ExitCodes.UsageOrDenied;
        }

        options = options with { UpstreamProxy = chained, Tls = tls };

        // Gateway (src/Egress.Proxy/Gateway): a policy file that fails the verify rules at start-up fails closed.
        string? file = policyFile is null ? null : ctx.FullPath(policyFile);
        Egress.Policy.Roles.RoleFileContent? content = null;
        string? sha = null;
        if (file is not null && !Egress.Proxy.Gateway.PolicyFile.TryLoad(file, out content, out sha, out var fileError))
        {
            ctx.Error.WriteLine(CliText.Clean($"egress-policy: --policy-file: {fileError}; not serving"));
            return ExitCodes.Validation;
        }

        using var policy = ctx.CreatePolicy(content is null ? null : ctx.ReadOptions() with { Allowlist = content.DefaultTexts });
        Egress.Proxy.Gateway.GatewayHost gateway;
        try
        {
            gateway = new Egress.Proxy.Gateway.GatewayHost(policy, file, sha, ctx.Error, content, tls?.VerifiesClientCertificates ?? false);
        }
        catch (InvalidOperationException ex)
        {
            ctx.Error.WriteLine(CliText.Clean($"egress-policy: --policy-file {file}: {ex.Message}; not serving"));
            return ExitCodes.Validation;
        }

        using var gatewayScope = gateway;
        await using var server = new EgressProxyServer(gateway.Policies, options with { HealthDetail = gateway.HealthDetail });

        // A long-running proxy gives its post-load heap back when traffic stops (docs/PERFORMANCE.md, proxy memory).
        using var trimmer = IdleMemoryTrimmer.Acquire();
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
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, signal => OnHangUp(ctx, gateway, signal));
        string mode = policy.Options.Enforce ? "enforcing" : "audit mode (nothing blocked)";
        string scheme = tls is null ? "http" : "https";
        string roles = content is { HasRoles: true } ? $", roles: {string.Join(',', content.Roles.Select(r => r.Name))} (others get the default allowlist)" : "";
        ctx.Out.WriteLine($"egress-policy proxy listening on {scheme}://{server.LocalEndPoint}, {mode}, allowlist: {string.Join(',', policy.Options.Allowlist)}{roles}");
        ctx.Out.Flush();
        if (server.MaxConnections < options.MaxConnections && parse.GetResult(flags.MaxConnections) is { Implicit: false })
        {
            ctx.Error.WriteLine($"egress-policy proxy: --max-connections {options.MaxConnections} lowered to {server.MaxConnections}, what the descriptor limit holds (raise it with ulimit -n)");
        }

        await stop.Task.ConfigureAwait(false);
        ctx.Error.WriteLine($"egress-policy proxy: shutting down; {server.ActiveConnections} open connection(s) get {options.ShutdownGrace.TotalSeconds:0.#} s to finish");
        ctx.Error.Flush();
        await server.StopAsync().ConfigureAwait(false);
        ctx.Error.WriteLine("egress-policy proxy: stopped");
        return ExitCodes.Success;
    }

    // The one place SIGHUP is handled: the gateway reloads --policy-file (src/Egress.Proxy/Gateway).
    private static void OnHangUp(CliContext ctx, Egress.Proxy.Gateway.GatewayHost gateway, PosixSignalContext signal)
    {
        signal.Cancel = true;
        if (!gateway.HangUp())
        {
            ctx.Error.WriteLine("egress-policy proxy: SIGHUP: the policy comes from the environment; nothing to reload (use --policy-file)");
            ctx.Error.Flush();
        }
    }
}

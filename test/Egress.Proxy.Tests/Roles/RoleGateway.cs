using System.Net;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Policy.Roles;
using Egress.Proxy.Gateway;
using Egress.Proxy.Tests.Support;
using Egress.TestUtils;

namespace Egress.Proxy.Tests.Roles;

/// <summary>An in-process gateway with a role policy file in a temp folder (optionally behind the TLS listener); stops on dispose.</summary>
internal sealed class RoleGateway : IAsyncDisposable
{
    private readonly TempDirectory _dir;
    private readonly GatewayHost _host;
    private bool _tls;

    private RoleGateway(TempDirectory dir, EgressPolicy policy, GatewayHost host, EgressProxyServer server, StringWriter log)
    {
        _dir = dir;
        Policy = policy;
        _host = host;
        Server = server;
        Log = log;
    }

    public EgressProxyServer Server { get; }

    public EgressPolicy Policy { get; }

    public StringWriter Log { get; }

    public PolicyHolder Holder => _host.Policies;

    public PolicyReloader Reloader => _host.Reloader!;

    public string PolicyPath => _dir.File("policy.lock");

    public int Port => Server.LocalEndPoint!.Port;

    public string Url => $"{(_tls ? "https" : "http")}://127.0.0.1:{Port}";

    public static RoleGateway Start(string policyText, GatewayTls? tls = null, bool enforce = true)
    {
        var dir = new TempDirectory();
        File.WriteAllText(dir.File("policy.lock"), policyText);
        Assert.True(PolicyFile.TryLoad(dir.File("policy.lock"), out RoleFileContent? content, out var sha, out var error), error);
        var log = new StringWriter();
        var policy = EgressPolicy.Create(new EgressOptions { Allowlist = content!.DefaultTexts, LogLevel = 0, Enforce = enforce }, TextWriter.Null);
        var host = new GatewayHost(policy, dir.File("policy.lock"), sha, TextWriter.Synchronized(log), content, tls?.VerifiesClientCertificates ?? false);
        var server = new EgressProxyServer(host.Policies, new ProxyOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), HealthDetail = host.HealthDetail, Tls = tls });
        server.Start();
        return new RoleGateway(dir, policy, host, server, log) { _tls = tls is not null };
    }

    /// <summary>Replaces the policy file atomically (write aside, rename over).</summary>
    public void Write(string text)
    {
        var temp = _dir.File("policy.lock.tmp");
        File.WriteAllText(temp, text);
        File.Move(temp, PolicyPath, overwrite: true);
    }

    /// <summary>curl through the gateway: status code and body, with extra curl arguments (source address, credentials, certificates).</summary>
    public async Task<(int Status, string Body, ProcessResult Result)> CurlAsync(string url, params string[] extra)
    {
        var result = await Curl.RunAsync(["-s", "-w", "\n%{http_code}", "-x", Url, .. extra, url]);
        var text = result.StdOut;
        int cut = text.LastIndexOf('\n');
        int status = cut >= 0 && int.TryParse(text[(cut + 1)..], System.Globalization.CultureInfo.InvariantCulture, out int s) ? s : 0;
        return (status, cut >= 0 ? text[..cut] : text, result);
    }

    public IEnumerable<Policy.Events.EgressEvent> Events() => Policy.Events.RecentEvents().Where(e => e.Source == "proxy");

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        _host.Dispose();
        Policy.Dispose();
        _dir.Dispose();
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Proxy.Gateway;
using Egress.Proxy.Tests.Support;
using Egress.TestUtils;

namespace Egress.Proxy.Tests;

/// <summary>
/// <c>--upstream-proxy</c> against a real tinyproxy on loopback: allowed requests reach the origin through
/// it as a CONNECT to the checked address; denied ones never reach it.
/// </summary>
public sealed class GatewayUpstreamProxyTests
{
    [Theory]
    [InlineData("https://proxy.example:3128")]
    [InlineData("http://proxy.example:3128/path")]
    [InlineData("proxy.example:3128")]
    public void Parse_RefusesAnythingButHttpHostPort(string text)
        => Assert.False(UpstreamProxy.TryParse(text, out _, out _));

    [Fact]
    public async Task AllowedRequests_GoThroughTheUpstream_ToTheCheckedAddress_DeniedOnesNeverReachIt()
    {
        using var origin = new MiniHttpServer();
        using var tiny = await TinyProxy.StartAsync();
        Assert.True(UpstreamProxy.TryParse($"http://127.0.0.1:{tiny.Port}", out var upstream, out var error), error);
        using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = [$"127.0.0.1:{origin.Port}"], LogLevel = 0 }, TextWriter.Null);
        await using var server = new EgressProxyServer(policy, new ProxyOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), UpstreamProxy = upstream });
        server.Start();
        string proxyUrl = $"http://127.0.0.1:{server.LocalEndPoint!.Port}";

        var allowed = await Curl.RunAsync("-x", proxyUrl, $"http://127.0.0.1:{origin.Port}/through");
        Assert.True(allowed.ExitCode == 0, allowed.StdErr);
        Assert.Contains("GET /through", allowed.StdOut, StringComparison.Ordinal);
        var denied = await Curl.RunAsync("-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", proxyUrl, $"http://127.0.0.1:{origin.Port + 1}/denied");
        Assert.Equal("403", denied.StdOut.Trim());

        var log = tiny.Log();
        Assert.Contains($"CONNECT 127.0.0.1:{origin.Port}", log, StringComparison.Ordinal);
        Assert.DoesNotContain($"127.0.0.1:{origin.Port + 1}", log, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://topsecret@proxy.example:3128", null)]
    [InlineData("http://proxy.example:3128", "topsecret")]
    [InlineData("http://proxy.example:3128", "user:top\nsecret")]
    [InlineData("ftp://user:topsecret@proxy.example:3128", null)]
    [InlineData("http://user:topsecret@proxy.example:3128/path", null)]
    public void Parse_BadCredentials_AreRefused_WithoutRepeatingThem(string text, string? credentials)
    {
        Assert.False(UpstreamProxy.TryParse(text, out _, out var error, credentials));
        Assert.DoesNotContain("topsecret", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUpstreamThatNeedsAuthentication_GetsTheCredentials_FromTheEnvironmentOrTheUrl()
    {
        using var origin = new MiniHttpServer();
        using var tiny = await TinyProxy.StartAsync(basicAuth: "gw-user gw-pass");
        using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = [$"127.0.0.1:{origin.Port}"], LogLevel = 2 }, TextWriter.Null);
        foreach (var (url, credentials, expected) in new (string, string?, string)[]
        {
            ($"http://127.0.0.1:{tiny.Port}", "gw-user:gw-pass", "200"),
            ($"http://gw-user:gw-pass@127.0.0.1:{tiny.Port}", null, "200"),
            ($"http://gw-user:wrong@127.0.0.1:{tiny.Port}", "gw-user:gw-pass", "200"), // the environment wins
            ($"http://127.0.0.1:{tiny.Port}", null, "502"),
            ($"http://127.0.0.1:{tiny.Port}", "gw-user:wrong", "502"),
        })
        {
            Assert.True(UpstreamProxy.TryParse(url, out var upstream, out var error, credentials), error);
            await using var server = new EgressProxyServer(policy, new ProxyOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), UpstreamProxy = upstream });
            server.Start();
            var result = await Curl.RunAsync("-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", $"http://127.0.0.1:{server.LocalEndPoint!.Port}", $"http://127.0.0.1:{origin.Port}/");
            Assert.True(expected == result.StdOut.Trim(), $"{url} with {credentials}: {result.StdOut} {result.StdErr}");
        }

        Assert.DoesNotContain(policy.Events.RecentEvents(), e => (e.Reason + e.Host + e.Client).Contains("gw-pass", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnUpstreamThatRefuses_Gives502_NotAByPass()
    {
        using var tiny = await TinyProxy.StartAsync(connectPort: 1); // tinyproxy allows CONNECT to port 1 only
        using var origin = new MiniHttpServer();
        Assert.True(UpstreamProxy.TryParse($"http://127.0.0.1:{tiny.Port}", out var upstream, out _));
        using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = [$"127.0.0.1:{origin.Port}"], LogLevel = 0 }, TextWriter.Null);
        await using var server = new EgressProxyServer(policy, new ProxyOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), UpstreamProxy = upstream });
        server.Start();
        var result = await Curl.RunAsync("-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", $"http://127.0.0.1:{server.LocalEndPoint!.Port}", $"http://127.0.0.1:{origin.Port}/");
        Assert.Equal("502", result.StdOut.Trim());
        Assert.Equal(0, origin.Connections);
    }

    /// <summary>A real tinyproxy on a loopback port, foreground, its own config and log; killed on dispose.</summary>
    private sealed class TinyProxy : IDisposable
    {
        private readonly Process _process;
        private readonly TempDirectory _dir;

        private TinyProxy(Process process, TempDirectory dir, int port)
        {
            _process = process;
            _dir = dir;
            Port = port;
        }

        public int Port { get; }

        public static async Task<TinyProxy> StartAsync(int? connectPort = null, string? basicAuth = null)
        {
            var dir = new TempDirectory();
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            File.WriteAllText(dir.File("tinyproxy.conf"), $"""
                Port {port}
                Listen 127.0.0.1
                Timeout 30
                MaxClients 20
                Allow 127.0.0.1
                LogFile "{dir.File("tinyproxy.log")}"
                LogLevel Info
                {(connectPort is { } p ? $"ConnectPort {p}" : "")}
                {(basicAuth is { } auth ? $"BasicAuth {auth}" : "")}

                """);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(dir.Path, (UnixFileMode)0x1FF);
            }

            var psi = new ProcessStartInfo("tinyproxy") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "-d", "-c", dir.File("tinyproxy.conf") })
            {
                psi.ArgumentList.Add(a);
            }

            var process = Process.Start(psi)!;
            for (int i = 0; i < 100; i++)
            {
                try
                {
                    using var c = new TcpClient();
                    await c.ConnectAsync(IPAddress.Loopback, port);
                    return new TinyProxy(process, dir, port);
                }
                catch (SocketException)
                {
                    await Task.Delay(100);
                }
            }

            process.Kill(entireProcessTree: true);
            throw new TimeoutException("tinyproxy did not listen");
        }

        public string Log() => File.Exists(_dir.File("tinyproxy.log")) ? File.ReadAllText(_dir.File("tinyproxy.log")) : "";

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }

            _process.Dispose();
            _dir.Dispose();
        }
    }
}

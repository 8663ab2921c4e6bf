using System.Net;
using System.Net.Sockets;
using System.Text;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Policy.Destinations;
using Egress.Proxy.Forwarding;
using Egress.Proxy.Tests.Support;
using Egress.Proxy.Tls;
using Egress.TestUtils;

namespace Egress.Proxy.Tests.Forwarding;

/// <summary>Domain fronting through CONNECT: a TLS server name that differs from the CONNECT host must itself be allowed.</summary>
public sealed class ConnectServerNameTests
{
    [Fact]
    public async Task OpensslFrontingADeniedServerName_IsClosedBeforeAnyByteArrives_AndRecorded()
    {
        using var target = new ScriptedOrigin(string.Empty);
        await using var proxy = TestProxy.Start("127.0.0.1");

        var result = await OpensslThroughProxyAsync(proxy.Port, target.Port, "denied.example");
        string received = await target.Received;

        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal(string.Empty, received);
        var events = proxy.ProxyEvents();
        Assert.Contains(events, e => e.Action == "ALLOW" && e.Host == "127.0.0.1" && e.Port == target.Port);
        var deny = Assert.Single(events, e => e.Action == "DENY");
        Assert.Equal("denied.example", deny.Host);
        Assert.Equal(target.Port, deny.Port);
        Assert.Equal($"TLS SNI names denied.example on a connection to 127.0.0.1:{target.Port}: not in allowlist", deny.Reason);
    }

    [Fact]
    public async Task OpensslWithAnAllowedDifferentServerName_Passes()
    {
        using var target = await TlsTarget.StartAsync();
        await using var proxy = TestProxy.Start("127.0.0.1,allowed.example");

        var result = await OpensslThroughProxyAsync(proxy.Port, target.Port, "allowed.example");

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("BEGIN CERTIFICATE", result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain(proxy.ProxyEvents(), e => e.Action == "DENY");
    }

    [Fact]
    public async Task CurlWhoseServerNameIsTheConnectHost_Passes()
    {
        using var target = await TlsTarget.StartAsync();
        await using var proxy = TestProxy.Start("=localhost");

        var result = await Curl.RunAsync("--cacert", target.CertificatePath, "-x", proxy.Url, $"https://LOCALHOST.:{target.Port}/");

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Single(proxy.ProxyEvents());
    }

    [Fact]
    public async Task AuditMode_FrontingIsRecordedAsWouldDenyAndPasses()
    {
        using var target = await TlsTarget.StartAsync();
        await using var proxy = TestProxy.Start("127.0.0.1", enforce: false);

        var result = await OpensslThroughProxyAsync(proxy.Port, target.Port, "denied.example");

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains(proxy.ProxyEvents(), e => e.Host == "denied.example" && e.WouldDeny);
    }

    [Fact]
    public async Task PlainHttpThroughATunnel_Passes()
    {
        using var origin = new MiniHttpServer();
        await using var proxy = TestProxy.Start("127.0.0.1");

        var result = await Curl.RunAsync("--proxytunnel", "-x", proxy.Url, $"http://127.0.0.1:{origin.Port}/plain");

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("/plain", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DestinationThatSpeaksFirst_IsNotHeldBack()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var banner = Task.Run(async () =>
        {
            using var server = await listener.AcceptTcpClientAsync();
            await server.GetStream().WriteAsync("220 banner\r\n"u8.ToArray());
            var buffer = new byte[64];
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            int n = await server.GetStream().ReadAsync(buffer, cts.Token);
            return Encoding.ASCII.GetString(buffer, 0, n);
        });
        await using var proxy = TestProxy.Start("127.0.0.1");
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxy.Port);
        var stream = client.GetStream();

        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n"));
        string seen = await ReadUntilAsync(stream, "220 banner\r\n");
        await stream.WriteAsync("QUIT\r\n"u8.ToArray());

        Assert.EndsWith("220 banner\r\n", seen, StringComparison.Ordinal);
        Assert.Equal("QUIT\r\n", await banner);
    }

    [Fact]
    public async Task MalformedTlsAfterConnect_IsClosedAndRecorded()
    {
        using var target = new ScriptedOrigin(string.Empty);
        await using var proxy = TestProxy.Start("127.0.0.1");
        byte[] alertThenHello = [21, 3, 1, 0, 2, 1, 90, .. new ClientHelloBuilder().WithServerName("denied.example").Build()];

        var response = await SendThroughTunnelAsync(proxy.Port, target.Port, alertThenHello);

        Assert.StartsWith("HTTP/1.1 200 ", response, StringComparison.Ordinal);
        Assert.EndsWith("\u0015\u0003\u0003\u0000\u0002\u0002\u0031", response, StringComparison.Ordinal);
        Assert.Equal(string.Empty, await target.Received);
        Assert.Contains(proxy.ProxyEvents(), e => e.Action == "DENY" && e.Reason.Contains("malformed TLS ClientHello", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ClientHelloPipelinedWithTheConnectHead_IsChecked()
    {
        using var target = new ScriptedOrigin(string.Empty);
        await using var proxy = TestProxy.Start("127.0.0.1");
        var hello = ClientHelloBuilder.Records(new ClientHelloBuilder().WithServerName("denied.example").Message(), [5, 5, 5]);

        var response = await SendThroughTunnelAsync(proxy.Port, target.Port, hello, pipelined: true);

        Assert.StartsWith("HTTP/1.1 200 ", response, StringComparison.Ordinal);
        Assert.Equal(string.Empty, await target.Received);
        Assert.Contains(proxy.ProxyEvents(), e => e.Action == "DENY" && e.Host == "denied.example");
    }

    [Fact]
    public async Task ClientHelloThatNeverCompletes_IsClosedAfterTheHeaderTimeout()
    {
        using var target = new ScriptedOrigin(string.Empty);
        await using var proxy = TestProxy.Start("127.0.0.1", new ProxyOptions { HeaderTimeout = TimeSpan.FromMilliseconds(300) });
        var hello = new ClientHelloBuilder().WithServerName("denied.example").Build();

        var response = await SendThroughTunnelAsync(proxy.Port, target.Port, hello[..20]);

        Assert.StartsWith("HTTP/1.1 200 ", response, StringComparison.Ordinal);
        Assert.Equal(string.Empty, await target.Received);
        Assert.Contains(proxy.ProxyEvents(), e => e.Action == "DENY" && e.Reason.Contains("did not arrive within the header timeout", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("api.example.com", "api.example.com:443", null)]
    [InlineData("API.Example.COM.", "api.example.com:443", null)]
    [InlineData("other.example.com", "api.example.com:443", null)]
    [InlineData("denied.example", "api.example.com:443", "DENY")]
    [InlineData("127.0.0.2", "api.example.com:443", "DENY")]
    [InlineData("api.example.com", "127.0.0.1:443", null)]
    [InlineData("evil.example", "127.0.0.1:443", "DENY")]
    public void Decide_ServerNameAgainstTheConnectHost(string serverName, string connect, string? expected)
    {
        using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = ["example.com", "127.0.0.1"], Enforce = true });
        Assert.True(DestinationParser.TryParse(connect, out var destination, out _));

        var decision = TunnelInspector.Decide(policy, destination, new ClientHello { Status = ClientHelloStatus.Complete, ServerName = serverName });

        Assert.Equal(expected, decision?.Action);
    }

    [Theory]
    [InlineData(ClientHelloStatus.NotTls, null)]
    [InlineData(ClientHelloStatus.Complete, null)]
    [InlineData(ClientHelloStatus.Malformed, "DENY")]
    public void Decide_StatusWithoutName(ClientHelloStatus status, string? expected)
    {
        using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = ["example.com"], Enforce = true });
        Assert.True(DestinationParser.TryParse("example.com:443", out var destination, out _));

        Assert.Equal(expected, TunnelInspector.Decide(policy, destination, new ClientHello { Status = status, Problem = "x" })?.Action);
    }

    // openssl s_client's -proxy sends CONNECT for -connect and then a ClientHello naming -servername: fronting.
    // It completes the handshake and exits 0 when stdin (closed) ends; it exits 1 when the tunnel is cut.
    private static Task<ProcessResult> OpensslThroughProxyAsync(int proxyPort, int targetPort, string serverName)
        => ProcessRunner.RunAsync("openssl", ["s_client", "-proxy", $"127.0.0.1:{proxyPort}", "-connect", $"127.0.0.1:{targetPort}", "-servername", serverName], Curl.NoProxyEnvironment(), timeout: TimeSpan.FromSeconds(30));

    private static async Task<string> SendThroughTunnelAsync(int proxyPort, int targetPort, byte[] bytes, bool pipelined = false)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxyPort);
        var stream = client.GetStream();
        var head = Encoding.ASCII.GetBytes($"CONNECT 127.0.0.1:{targetPort} HTTP/1.1\r\n\r\n");
        if (pipelined)
        {
            await stream.WriteAsync(head.Concat(bytes).ToArray());
            return await TestProxy.ReadToEndAsync(stream);
        }

        await stream.WriteAsync(head);
        string established = await ReadUntilAsync(stream, "\r\n\r\n");
        await stream.WriteAsync(bytes);
        return established + await TestProxy.ReadToEndAsync(stream);
    }

    private static async Task<string> ReadUntilAsync(NetworkStream stream, string end)
    {
        var seen = new StringBuilder();
        var buffer = new byte[1];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (!seen.ToString().EndsWith(end, StringComparison.Ordinal))
        {
            int n = await stream.ReadAsync(buffer, cts.Token);
            Assert.NotEqual(0, n);
            seen.Append((char)buffer[0]);
        }

        return seen.ToString();
    }
}

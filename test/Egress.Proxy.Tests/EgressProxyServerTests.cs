using System.Diagnostics.Metrics;
using Egress.Proxy.Tests.Support;

namespace Egress.Proxy.Tests;

public sealed class EgressProxyServerTests
{
    [Fact]
    public async Task Connect_AllowedTarget_TunnelsTlsEndToEnd()
    {
        using var target = await TlsTarget.StartAsync();
        await using var proxy = TestProxy.Start("127.0.0.1");

        var result = await Curl.RunAsync("--cacert", target.CertificatePath, "-x", proxy.Url, $"https://127.0.0.1:{target.Port}/");

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("s_server", result.StdOut, StringComparison.Ordinal);
        var evt = Assert.Single(proxy.ProxyEvents());
        Assert.Equal("ALLOW", evt.Action);
        Assert.Equal("127.0.0.1", evt.Host);
        Assert.Equal(target.Port, evt.Port);
        Assert.Equal("127.0.0.1", evt.Token);
    }

    [Fact]
    public async Task Connect_DeniedHost_Answers403WithReasonHeaderAndJsonBody()
    {
        await using var proxy = TestProxy.Start("127.0.0.1");

        var curl = await Curl.RunAsync("-x", proxy.Url, "https://denied.example:443/");
        var raw = await proxy.SendRawAsync("CONNECT api.denied.example:443 HTTP/1.1\r\nHost: api.denied.example:443\r\n\r\n");

        Assert.Equal(56, curl.ExitCode);
        Assert.Contains("403", curl.StdErr, StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", raw, StringComparison.Ordinal);
        Assert.Contains("\r\nX-Egress-Policy-Reason: not in allowlist\r\n", raw, StringComparison.Ordinal);
        Assert.EndsWith("{\"host\":\"api.denied.example\",\"port\":443,\"outcome\":\"not_in_allowlist\",\"reason\":\"not in allowlist\",\"suggested_token\":\"denied.example\"}\n", raw, StringComparison.Ordinal);
        Assert.All(proxy.ProxyEvents(), e => Assert.Equal("DENY", e.Action));
        Assert.Equal(2, proxy.ProxyEvents().Length);
    }

    [Fact]
    public async Task PlainHttp_AllowedTarget_ForwardsInOriginFormWithoutHopByHopHeaders()
    {
        using var origin = new MiniHttpServer();
        await using var proxy = TestProxy.Start("127.0.0.1");

        var result = await Curl.RunAsync("-x", proxy.Url, "-H", "Proxy-Connection: keep-alive", $"http://127.0.0.1:{origin.Port}/a?b=1");

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Equal($"GET /a?b=1 host=127.0.0.1:{origin.Port} proxy-connection=False body=", result.StdOut);
        Assert.Equal("ALLOW", Assert.Single(proxy.ProxyEvents()).Action);
    }

    [Fact]
    public async Task PlainHttp_KeepAlive_ReusesOneUpstreamConnectionAndRecordsEachRequest()
    {
        using var origin = new MiniHttpServer();
        await using var proxy = TestProxy.Start("127.0.0.1");
        string url = $"http://127.0.0.1:{origin.Port}/";

        var result = await Curl.RunAsync("-x", proxy.Url, url + "one", url + "chunked", "--next", "-x", proxy.Url, "-d", "posted", url + "three");

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("GET /one", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("GET /chunked", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("-tail", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("POST /three host=127.0.0.1:" + origin.Port + " proxy-connection=False body=posted", result.StdOut, StringComparison.Ordinal);
        Assert.Equal(1, origin.Connections);
        Assert.Equal(3, proxy.ProxyEvents().Length);
    }

    [Theory]
    [InlineData("evil.example@127.0.0.1:{0}")]
    [InlineData("%31%32%37.0.0.1:{0}")]
    [InlineData("127.0.0.1:{0}/@evil.example")]
    public async Task PlainHttp_HostHeaderWithUserinfoOrEncoding_IsReplacedByTheCheckedAuthority(string hostHeader)
    {
        using var origin = new MiniHttpServer();
        await using var proxy = TestProxy.Start("127.0.0.1");
        string host = string.Format(System.Globalization.CultureInfo.InvariantCulture, hostHeader, origin.Port);

        var raw = await proxy.SendRawAsync($"GET http://127.0.0.1:{origin.Port}/x HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");

        // RFC 9112 3.2.2: the destination must see the host the proxy decided, never the client's raw Host value
        // (a name-based virtual host behind the allowed address could read it as another site).
        Assert.Contains($"GET /x host=127.0.0.1:{origin.Port} ", raw, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET http://127.0.0.1:{1}/two HTTP/1.1\r\nHost: 127.0.0.1:{1}\r\n\r\n")]
    [InlineData("CONNECT 127.0.0.1:{1} HTTP/1.1\r\n\r\n")]
    [InlineData("GET http://127.0.0.1:{0}/two HTTP/1.1\r\nHost: 127.0.0.1:{1}\r\n\r\n")]
    public async Task PlainHttp_PipelinedSecondRequestToAnotherDestination_IsDecidedAgain(string second)
    {
        using var allowed = new MiniHttpServer();
        using var denied = new MiniHttpServer();
        await using var proxy = TestProxy.Start($"127.0.0.1:{allowed.Port}");
        string first = $"GET http://127.0.0.1:{allowed.Port}/one HTTP/1.1\r\nHost: 127.0.0.1:{allowed.Port}\r\n\r\n";

        var raw = await proxy.SendRawAsync(first + string.Format(System.Globalization.CultureInfo.InvariantCulture, second, allowed.Port, denied.Port));

        Assert.Contains("GET /one ", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("/two", raw, StringComparison.Ordinal);
        Assert.Matches("\r\n\r\nGET /one [^\r]*HTTP/1.1 40[03] ", raw);
        Assert.Equal(0, denied.Connections);
    }

    [Fact]
    public async Task PlainHttp_DeniedHost_Answers403AndNeverConnects()
    {
        using var origin = new MiniHttpServer();
        await using var proxy = TestProxy.Start("example.com");

        var result = await Curl.RunAsync("-i", "-x", proxy.Url, $"http://127.0.0.1:{origin.Port}/");

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("HTTP/1.1 403 Forbidden", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("X-Egress-Policy-Reason: not in allowlist", result.StdOut, StringComparison.Ordinal);
        Assert.Contains($"\"suggested_token\":\"127.0.0.1:{origin.Port}\"", result.StdOut, StringComparison.Ordinal);
        Assert.Equal(0, origin.Connections);
    }

    [Fact]
    public async Task PlainHttp_LocalhostAllowedByDomainStyleKeyword_IsDeniedAsSpecialPurposeAddress()
    {
        using var origin = new MiniHttpServer();
        await using var proxy = TestProxy.Start("localhost");

        var result = await Curl.RunAsync("-i", "-x", proxy.Url, $"http://localhost:{origin.Port}/");

        Assert.StartsWith("HTTP/1.1 403 Forbidden", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("resolved to", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("\"outcome\":\"special_purpose_address\"", result.StdOut, StringComparison.Ordinal); // fields, not reason text
        Assert.Matches("\"address\":\"(127\\.0\\.0\\.1|\\[::1\\])\",\"range\":\"loopback\"", result.StdOut);
        Assert.Contains($"\"suggested_token\":\"=localhost:{origin.Port}\"", result.StdOut, StringComparison.Ordinal);
        Assert.Equal(0, origin.Connections);
    }

    [Fact]
    public async Task PlainHttp_ExactHostToken_AllowsLoopbackName()
    {
        using var origin = new MiniHttpServer();
        await using var proxy = TestProxy.Start("=localhost");

        var result = await Curl.RunAsync("-x", proxy.Url, $"http://localhost:{origin.Port}/x");

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.StartsWith("GET /x", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuditMode_DeniedHost_IsForwardedAndRecordedAsWouldDeny()
    {
        using var origin = new MiniHttpServer();
        await using var proxy = TestProxy.Start("example.com", enforce: false);

        var result = await Curl.RunAsync("-x", proxy.Url, $"http://127.0.0.1:{origin.Port}/");

        Assert.True(result.ExitCode == 0, result.StdErr);
        var evt = Assert.Single(proxy.ProxyEvents());
        Assert.True(evt.WouldDeny);
        Assert.Contains("resolved to 127.0.0.1", evt.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthEndpoint_AnswersOkInOriginForm()
    {
        await using var proxy = TestProxy.Start("example.com");

        var result = await Curl.RunAsync(proxy.Url + "/healthz");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("ok\n", result.StdOut);
        Assert.Empty(proxy.ProxyEvents());
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", "400")]
    [InlineData("GET https://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n", "400")]
    [InlineData("GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nHost: evil.example\r\n\r\n", "400")]
    [InlineData("GET http://example.com/ HTTP/1.1\r\nHost: evil.example\r\n\r\n", "400")]
    [InlineData("GET http://example.com/ HTTP/1.1\r\n\r\n", "400")]
    [InlineData("GET http://user@example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n", "400")]
    [InlineData("GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nX-A: 1\r\n folded\r\n\r\n", "400")]
    [InlineData("GET http://example.com/ HTTP/1.1\r\nHost : example.com\r\n\r\n", "400")]
    [InlineData("GET http://example.com/ HTTP/1.1\nHost: example.com\r\n\r\n", "400")]
    [InlineData("POST http://example.com/ HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "400")]
    [InlineData("POST http://example.com/ HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", "400")]
    [InlineData("POST http://example.com/ HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: gzip\r\n\r\n", "501")]
    [InlineData("GET http://example.com/ HTTP/2.0\r\nHost: example.com\r\n\r\n", "505")]
    [InlineData("CONNECT example.com HTTP/1.1\r\n\r\n", "400")]
    [InlineData("CONNECT example.com:0 HTTP/1.1\r\n\r\n", "400")]
    [InlineData("CONNECT http://example.com:443 HTTP/1.1\r\n\r\n", "400")]
    [InlineData("CONNECT user@example.com:443 HTTP/1.1\r\n\r\n", "400")]
    [InlineData("CONNECT [::1:443 HTTP/1.1\r\n\r\n", "400")]
    public async Task MalformedOrUnsafeRequests_AreRejectedWithoutDeciding(string request, string status)
    {
        await using var proxy = TestProxy.Start("example.com");

        var response = await proxy.SendRawAsync(request);

        Assert.StartsWith($"HTTP/1.1 {status} ", response, StringComparison.Ordinal);
        Assert.Empty(proxy.ProxyEvents());
    }

    [Fact]
    public async Task Connect_UncanonicalisableHost_IsDeniedAndRecorded()
    {
        await using var proxy = TestProxy.Start("example.com");

        var response = await proxy.SendRawAsync("CONNECT exa%00mple.com:443 HTTP/1.1\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 403 ", response, StringComparison.Ordinal);
        Assert.Contains("invalid destination", response, StringComparison.Ordinal);
        Assert.Equal("DENY", Assert.Single(proxy.ProxyEvents()).Action);
    }

    [Fact]
    public async Task Metrics_CountTunnelBytesAndRequests()
    {
        using var origin = new MiniHttpServer();
        await using var proxy = TestProxy.Start("127.0.0.1");
        long transmitted = 0, received = 0, requests = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ProxyMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "egress.proxy.requests")
            {
                Interlocked.Add(ref requests, value);
            }
            else if (instrument.Name == "egress.proxy.transferred")
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == ProxyMetrics.DirectionTag)
                    {
                        Interlocked.Add(ref (Equals(tag.Value, "transmit") ? ref transmitted : ref received), value);
                    }
                }
            }
        });
        listener.Start();

        var result = await Curl.RunAsync("-p", "-x", proxy.Url, $"http://127.0.0.1:{origin.Port}/m");

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.True(Interlocked.Read(ref requests) >= 1);
        Assert.True(Interlocked.Read(ref transmitted) > 0);
        Assert.True(Interlocked.Read(ref received) > 0);
    }
}

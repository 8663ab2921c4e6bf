using System.Net;
using System.Net.Sockets;
using Egress.Policy.Configuration;
using Egress.TestUtils;

namespace Egress.Telemetry.Tests;

public class PrometheusEndpointTests
{
    private static readonly HttpClient Client = new() { Timeout = TimeSpan.FromSeconds(20) };

    [Fact]
    public async Task Metrics_ServesTheExposition_OnLoopbackByDefault()
    {
        var (policy, metrics) = TestPolicies.Create("example.com");
        using var telemetry = EgressTelemetry.Start(Options() with { InstrumentFilter = i => i.Meter == metrics.Meter }, TextWriter.Null);
        policy.Evaluate("https://example.com/", "check");
        policy.Evaluate("https://evil.test/", "check");

        Assert.NotNull(telemetry.PrometheusEndpoint);
        Assert.Equal("127.0.0.1", telemetry.PrometheusEndpoint!.Host);
        using var response = await Client.GetAsync(telemetry.PrometheusEndpoint);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(1, Exposition.Value(text, "egress_allowed_total", "{egress_source=\"check\",egress_token=\"example.com\"}"));
        Assert.Equal(1, Exposition.Value(text, "egress_blocked_total", "{egress_outcome=\"not_in_allowlist\",egress_source=\"check\",server_address=\"evil.test\"}"));
    }

    [Theory]
    [InlineData("GET", "/", HttpStatusCode.NotFound)]
    [InlineData("GET", "/metrics?name[]=x", HttpStatusCode.OK)]
    [InlineData("POST", "/metrics", HttpStatusCode.MethodNotAllowed)]
    [InlineData("HEAD", "/metrics", HttpStatusCode.OK)]
    public async Task Metrics_AnswersOnlyGetAndHeadOnMetrics(string method, string path, HttpStatusCode expected)
    {
        using var telemetry = EgressTelemetry.Start(Options(), TextWriter.Null);
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(telemetry.PrometheusEndpoint!, path));
        using var response = await Client.SendAsync(request);
        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task Metrics_GarbageRequest_GetsBadRequestAndTheServerKeepsServing()
    {
        using var telemetry = EgressTelemetry.Start(Options(), TextWriter.Null);
        var endpoint = telemetry.PrometheusEndpoint!;
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(endpoint.Host, endpoint.Port);
            var stream = tcp.GetStream();
            await stream.WriteAsync("\x01\x02 nonsense\r\n\r\n"u8.ToArray());
            var buffer = new byte[256];
            int read = await stream.ReadAsync(buffer);
            Assert.StartsWith("HTTP/1.1 400", System.Text.Encoding.ASCII.GetString(buffer, 0, read), StringComparison.Ordinal);
        }

        using var response = await Client.GetAsync(endpoint);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public void PortInUse_IsLoggedAndNothingThrows()
    {
        using var occupied = new TcpListener(IPAddress.Loopback, 0);
        occupied.Start();
        int port = ((IPEndPoint)occupied.LocalEndpoint).Port;
        var log = new StringWriter();

        using var telemetry = EgressTelemetry.Start(Options() with { PrometheusPort = port }, log);

        Assert.Null(telemetry.PrometheusEndpoint);
        Assert.Contains($"cannot serve Prometheus metrics on 127.0.0.1:{port}", log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Disabled_StartsNothing()
    {
        using var telemetry = EgressTelemetry.Start(new EgressOptions(), TextWriter.Null);
        Assert.Null(telemetry.PrometheusEndpoint);
        Assert.False(telemetry.OtlpExporting);
    }

    [Fact]
    public async Task Exposition_PassesPromtoolLint()
    {
        var (policy, metrics) = TestPolicies.Create("example.com", enforce: false);
        using var collector = TestPolicies.CollectorFor(metrics.Meter);
        policy.Evaluate("https://example.com/", "check");
        policy.Evaluate("https://evil.test/", "proxy");
        using var dir = new TempDirectory();
        var file = dir.File("metrics.prom");
        await File.WriteAllTextAsync(file, collector.Collect());

        // promtool reads the exposition from stdin; run it through sh to redirect the file.
        var result = await ProcessRunner.RunAsync("/bin/sh", ["-c", $"\"{Promtool.Path}\" check metrics < \"{file}\""]);
        Assert.True(result.ExitCode == 0, result.StdOut + result.StdErr);
        Assert.Contains("egress_decision_duration_seconds_bucket", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
    }

    private static EgressTelemetryOptions Options() => new() { PrometheusEnabled = true, PrometheusPort = 0 };
}

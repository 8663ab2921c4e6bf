using System.Net;
using System.Net.Sockets;
using Egress.Policy.Configuration;

namespace Egress.Telemetry.Tests;

[Collection(ProcessWideListeners.Name)]
public class OtlpExportTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Export_CarriesCountersHistogramAttributesAndServiceName(bool grpc)
    {
        await using var receiver = await OtlpReceiver.StartAsync(grpc);
        var (policy, _) = TestPolicies.Create("example.com");
        string source = grpc ? "otlp-grpc-test" : "otlp-http-test";
        string deniedHost = source + ".exfil.test";
        var options = new EgressTelemetryOptions
        {
            OtlpEnabled = true,
            OtlpProtocol = grpc ? OtlpExporterProtocol.Grpc : OtlpExporterProtocol.HttpProtobuf,
            OtlpEndpoint = grpc ? receiver.BaseUri : new Uri(receiver.BaseUri, "/v1/metrics"),
            ServiceName = "egress-otlp-test",
            ResourceAttributes = [new("deployment.environment", "ci")],
        };
        var log = new StringWriter();
        using (var telemetry = EgressTelemetry.Start(options, log))
        {
            policy.Evaluate("https://api.example.com/", source);
            policy.Evaluate("https://www.example.com/", source);
            policy.Evaluate("https://" + deniedHost + "/", source);
            Assert.True(telemetry.Flush(TimeSpan.FromSeconds(30)), log.ToString());
        }

        var export = await receiver.WaitForAsync(e => Points(e, "egress.blocked", source).Any(), Limit);
        Assert.True(export is not null, "no export with egress.blocked arrived; log: " + log);
        Assert.Equal("egress-otlp-test", export!.Resource["service.name"]);
        Assert.Equal("ci", export.Resource["deployment.environment"]);

        var allowedMetric = export.Metrics.First(m => m.Name == "egress.allowed");
        Assert.Equal("Egress.Policy", allowedMetric.Scope);
        Assert.Equal("sum", allowedMetric.Kind);
        Assert.True(allowedMetric.IsMonotonic);
        Assert.Equal("{decision}", allowedMetric.Unit);
        var allowed = Assert.Single(Points(export, "egress.allowed", source));
        Assert.Equal(2, allowed.Value);
        Assert.Equal("example.com", allowed.Attributes["egress.token"]);

        var blocked = Assert.Single(Points(export, "egress.blocked", source));
        Assert.Equal(1, blocked.Value);
        Assert.Equal(deniedHost, blocked.Attributes["server.address"]);
        Assert.Equal("not_in_allowlist", blocked.Attributes["egress.outcome"]);

        var duration = export.Metrics.First(m => m.Name == "egress.decision.duration");
        Assert.Equal("histogram", duration.Kind);
        Assert.Equal("s", duration.Unit);
        var deny = Assert.Single(duration.Points, p => p.Attributes.GetValueOrDefault("egress.source") == source && p.Attributes["egress.action"] == "deny");
        Assert.Equal(1UL, deny.Count);
        Assert.Equal(1e-7, deny.Bounds[0]);
        Assert.Equal(deny.Bounds.Length + 1, deny.BucketCounts.Length);
        Assert.DoesNotContain("failed", log.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task UnreachableCollector_IsLoggedOnce_AndDecisionsAreUnaffected(bool grpc)
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var (policy, _) = TestPolicies.Create("example.com");
        var log = new StringWriter();
        var options = new EgressTelemetryOptions
        {
            OtlpEnabled = true,
            OtlpProtocol = grpc ? OtlpExporterProtocol.Grpc : OtlpExporterProtocol.HttpProtobuf,
            OtlpEndpoint = new Uri(grpc ? $"http://127.0.0.1:{port}" : $"http://127.0.0.1:{port}/v1/metrics"),
            OtlpTimeout = TimeSpan.FromSeconds(2),
        };
        using (var telemetry = EgressTelemetry.Start(options, log))
        {
            for (int round = 0; round < 3; round++)
            {
                Assert.True(policy.Evaluate("https://example.com/", "otlp-down-test").Allowed);
                Assert.False(policy.Evaluate("https://evil.test/", "otlp-down-test").Allowed);
                telemetry.Flush(TimeSpan.FromSeconds(10));
            }

            Assert.True(telemetry.OtlpFailures >= 2, $"failures: {telemetry.OtlpFailures}; log: {log}");
        }

        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines, l => l.Contains("OTLP metrics export", StringComparison.Ordinal));
        Assert.Contains($"127.0.0.1:{port}", line, StringComparison.Ordinal);
        Assert.Equal(6, policy.Events.AllowedTotal + policy.Events.BlockedTotal);
    }

    private static IEnumerable<OtlpPoint> Points(OtlpExport export, string metric, string source) =>
        export.Metrics.Where(m => m.Name == metric).SelectMany(m => m.Points).Where(p => p.Attributes.GetValueOrDefault("egress.source") == source);
}

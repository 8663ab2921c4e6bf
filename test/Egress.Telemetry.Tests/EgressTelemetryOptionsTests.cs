using System.Net;
using Egress.Policy.Configuration;
using Egress.TestUtils;

namespace Egress.Telemetry.Tests;

public class EgressTelemetryOptionsTests
{
    [Fact]
    public void Defaults_NothingEnabled_LoopbackPort9464_HttpToLocalhost4318()
    {
        var o = Read();
        Assert.False(o.PrometheusEnabled);
        Assert.False(o.OtlpEnabled);
        Assert.Equal(IPAddress.Loopback, o.PrometheusAddress);
        Assert.Equal(9464, o.PrometheusPort);
        Assert.Equal(OtlpExporterProtocol.HttpProtobuf, o.OtlpProtocol);
        Assert.Equal(new Uri("http://localhost:4318/v1/metrics"), o.OtlpEndpoint);
        Assert.Equal("egress-policy", o.ServiceName);
        Assert.Empty(o.Warnings);
    }

    [Fact]
    public void EgressVariables_EnableBothExporters()
    {
        var o = Read(("EGRESS_PROM_ENABLE", "1"), ("EGRESS_PROM_PORT", "9100"), ("EGRESS_OTEL_ENABLE", "true"), ("EGRESS_OTEL_EXPORTER", "grpc"), ("EGRESS_OTEL_ENDPOINT", "http://collector:4317"));
        Assert.True(o.PrometheusEnabled);
        Assert.Equal(9100, o.PrometheusPort);
        Assert.True(o.OtlpEnabled);
        Assert.Equal(OtlpExporterProtocol.Grpc, o.OtlpProtocol);
        Assert.Equal(new Uri("http://collector:4317"), o.OtlpEndpoint);
    }

    [Theory]
    [InlineData(null, null, null, "http://localhost:4318/v1/metrics")]
    [InlineData("http://egress:4318", "http://base:4318", "http://metrics:9999/custom", "http://egress:4318/v1/metrics")]
    [InlineData("http://egress:4318/v1/metrics", null, null, "http://egress:4318/v1/metrics")]
    [InlineData(null, "http://base:4318/prefix/", "http://metrics:9999/custom", "http://metrics:9999/custom")]
    [InlineData(null, "http://base:4318/prefix/", null, "http://base:4318/prefix/v1/metrics")]
    [InlineData(null, "not a url", null, "http://localhost:4318/v1/metrics")]
    public void HttpEndpoint_EgressWins_ThenSignalEndpoint_ThenBaseWithSignalPath(string? egress, string? otelBase, string? otelMetrics, string expected)
    {
        var o = Read(("EGRESS_OTEL_ENDPOINT", egress), ("OTEL_EXPORTER_OTLP_ENDPOINT", otelBase), ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", otelMetrics));
        Assert.Equal(new Uri(expected), o.OtlpEndpoint);
    }

    [Fact]
    public void Grpc_WithoutEndpoint_DefaultsToPort4317()
    {
        Assert.Equal(new Uri("http://localhost:4317"), Read(("EGRESS_OTEL_EXPORTER", "grpc")).OtlpEndpoint);
        Assert.Equal(new Uri("http://localhost:4317"), Read(("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")).OtlpEndpoint);
    }

    [Fact]
    public void Protocol_EgressVariableWinsOverStandardOnes()
    {
        Assert.Equal(OtlpExporterProtocol.HttpProtobuf, Read(("EGRESS_OTEL_EXPORTER", "http"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")).OtlpProtocol);
        Assert.Equal(OtlpExporterProtocol.Grpc, Read(("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "grpc"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")).OtlpProtocol);
        var json = Read(("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"));
        Assert.Equal(OtlpExporterProtocol.HttpProtobuf, json.OtlpProtocol);
        Assert.Contains(json.Warnings, w => w.StartsWith("OTEL_EXPORTER_OTLP_PROTOCOL", StringComparison.Ordinal));
    }

    [Fact]
    public void StandardVariables_ServiceNameResourceHeadersIntervalTemporality()
    {
        var o = Read(
            ("OTEL_SERVICE_NAME", "ci-runner"),
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=ignored, deployment.environment=prod,team=sec%20ops"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=abc"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "5000"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "15000"),
            ("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "Delta"));
        Assert.Equal("ci-runner", o.ServiceName);
        Assert.Equal([new("deployment.environment", "prod"), new("team", "sec ops")], o.ResourceAttributes.ToArray());
        Assert.Equal("api-key=abc", o.OtlpHeaders);
        Assert.Equal(TimeSpan.FromSeconds(5), o.OtlpTimeout);
        Assert.Equal(TimeSpan.FromSeconds(15), o.ExportInterval);
        Assert.True(o.DeltaTemporality);
    }

    [Fact]
    public void ServiceName_FromResourceAttributes_WhenNoServiceNameVariable() =>
        Assert.Equal("from-attrs", Read(("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs")).ServiceName);

    [Fact]
    public void SdkDisabled_TurnsOtlpOff() =>
        Assert.False(Read(("EGRESS_OTEL_ENABLE", "1"), ("OTEL_SDK_DISABLED", "true")).OtlpEnabled);

    [Theory]
    [InlineData("0.0.0.0", "0.0.0.0")]
    [InlineData("::1", "::1")]
    [InlineData("[::]", "::")]
    [InlineData("localhost", "127.0.0.1")]
    public void PromHost_ConfiguresTheBindAddress(string value, string expected) =>
        Assert.Equal(IPAddress.Parse(expected), Read(("EGRESS_PROM_HOST", value)).PrometheusAddress);

    [Fact]
    public void PromHost_Garbage_StaysOnLoopbackWithAWarning()
    {
        var o = Read(("EGRESS_PROM_HOST", "everywhere"));
        Assert.Equal(IPAddress.Loopback, o.PrometheusAddress);
        Assert.Contains(o.Warnings, w => w.StartsWith("EGRESS_PROM_HOST", StringComparison.Ordinal));
    }

    [Fact]
    public void BadTimeout_KeepsTheDefaultWithAWarning()
    {
        var o = Read(("OTEL_EXPORTER_OTLP_TIMEOUT", "-5"));
        Assert.Equal(TimeSpan.FromSeconds(10), o.OtlpTimeout);
        Assert.Single(o.Warnings);
    }

    private static EgressTelemetryOptions Read(params (string Name, string? Value)[] variables)
    {
        var env = TestEnvironment.Of(variables);
        return EgressTelemetryOptions.From(EgressOptionsReader.Read(env), env);
    }
}

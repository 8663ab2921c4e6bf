using Egress.Policy.Configuration;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Egress.Telemetry.Otlp;

/// <summary>Builds the OpenTelemetry meter provider that exports every <c>Egress.*</c> meter over OTLP.</summary>
internal static class OtlpMetricsExport
{
    public static MeterProvider Start(EgressTelemetryOptions options, ExportFailureReporter reporter)
    {
        var resource = ResourceBuilder.CreateEmpty()
            .AddService(options.ServiceName, serviceVersion: typeof(OtlpMetricsExport).Assembly.GetName().Version?.ToString())
            .AddAttributes(options.ResourceAttributes.Select(a => new KeyValuePair<string, object>(a.Key, a.Value)))
            .AddTelemetrySdk();
        int timeout = (int)Math.Clamp(options.OtlpTimeout.TotalMilliseconds, 1, int.MaxValue);
        return Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(options.MeterPrefix + "*")
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Protocol = options.OtlpProtocol == OtlpExporterProtocol.Grpc ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                exporter.Endpoint = options.OtlpEndpoint;
                exporter.TimeoutMilliseconds = timeout;
                if (options.OtlpHeaders is { } headers)
                {
                    exporter.Headers = headers;
                }

                exporter.HttpClientFactory = () => new HttpClient(new FailureReportingHandler(reporter, new SocketsHttpHandler()))
                {
                    Timeout = options.OtlpTimeout,
                };
                reader.TemporalityPreference = options.DeltaTemporality ? MetricReaderTemporalityPreference.Delta : MetricReaderTemporalityPreference.Cumulative;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)Math.Clamp(options.ExportInterval.TotalMilliseconds, 1, int.MaxValue);
                reader.PeriodicExportingMetricReaderOptions.ExportTimeoutMilliseconds = timeout;
            })
            .Build();
    }
}

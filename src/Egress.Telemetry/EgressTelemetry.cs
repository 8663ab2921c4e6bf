using System.Net.Sockets;
using Egress.Policy.Configuration;
using Egress.Policy.Events;
using Egress.Telemetry.Otlp;
using Egress.Telemetry.Prometheus;
using OpenTelemetry.Metrics;

namespace Egress.Telemetry;

/// <summary>
/// Starts the exporters the configuration asks for — the Prometheus <c>/metrics</c> endpoint
/// (<c>EGRESS_PROM_ENABLE</c>) and OTLP export (<c>EGRESS_OTEL_ENABLE</c>) — and nothing otherwise. Both
/// collect every meter whose name starts with <c>Egress.</c>. Problems (port in use, collector unreachable)
/// are logged once and never thrown: decisions do not depend on telemetry. Dispose to stop (OTLP exports
/// once more on the way out).
/// </summary>
public sealed class EgressTelemetry : IDisposable
{
    private readonly MetricsCollector? _collector;
    private readonly PrometheusHttpServer? _server;
    private readonly MeterProvider? _meterProvider;
    private readonly OtlpEventSourceListener? _eventListener;
    private readonly ExportFailureReporter? _reporter;
    private int _disposed;

    private EgressTelemetry(EgressTelemetryOptions options, EventLogWriter log)
    {
        Options = options;
        foreach (var warning in options.Warnings)
        {
            log.Warn(warning);
        }

        if (options.PrometheusEnabled)
        {
            _collector = new MetricsCollector(options.MeterPrefix, options.InstrumentFilter);
            try
            {
                _server = new PrometheusHttpServer(_collector, options.PrometheusAddress, options.PrometheusPort);
            }
            catch (SocketException ex)
            {
                log.Warn($"cannot serve Prometheus metrics on {options.PrometheusAddress}:{options.PrometheusPort} ({ex.Message}); continuing without the endpoint");
                _collector.Dispose();
                _collector = null;
            }
        }

        if (options.OtlpEnabled)
        {
            _reporter = new ExportFailureReporter(log, options.OtlpEndpoint);
            try
            {
                _eventListener = options.OtlpProtocol == OtlpExporterProtocol.Grpc ? new OtlpEventSourceListener(_reporter) : null;
                _meterProvider = OtlpMetricsExport.Start(options, _reporter);
            }
            catch (Exception ex)
            {
                // Whatever goes wrong in the exporter's setup, the program and its decisions carry on.
                log.Warn($"cannot start OTLP metrics export to {options.OtlpEndpoint} ({ex.Message}); continuing without it");
            }
        }
    }

    /// <summary>The options in force.</summary>
    public EgressTelemetryOptions Options { get; }

    /// <summary>The URL of the Prometheus endpoint, or <see langword="null"/> when it is not served.</summary>
    public Uri? PrometheusEndpoint => _server?.MetricsUri;

    /// <summary>The collector behind the endpoint, or <see langword="null"/> when it is not served.</summary>
    public MetricsCollector? Collector => _collector;

    /// <summary>Whether OTLP export is running.</summary>
    public bool OtlpExporting => _meterProvider is not null;

    /// <summary>OTLP export failures seen (only the first is logged).</summary>
    public int OtlpFailures => _reporter?.Failures ?? 0;

    /// <summary>
    /// Starts what <paramref name="options"/> asks for (<c>EGRESS_PROM_ENABLE</c>, <c>EGRESS_OTEL_ENABLE</c>), reading
    /// <c>EGRESS_PROM_HOST</c> and the standard <c>OTEL_*</c> variables from the process environment.
    /// </summary>
    /// <param name="options">The policy configuration.</param>
    /// <param name="log">Where warnings go (stderr when null), in the policy's log format.</param>
    /// <param name="environment">Variable lookup for <c>EGRESS_PROM_HOST</c> and <c>OTEL_*</c>; the process environment when null.</param>
    public static EgressTelemetry Start(EgressOptions options, TextWriter? log = null, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new EgressTelemetry(EgressTelemetryOptions.From(options, environment), new EventLogWriter(log ?? Console.Error, Math.Max(1, options.LogLevel), options.LogFormat));
    }

    /// <summary>Starts what <paramref name="options"/> asks for.</summary>
    /// <param name="options">What to start.</param>
    /// <param name="log">Where warnings go (stderr when null).</param>
    public static EgressTelemetry Start(EgressTelemetryOptions options, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new EgressTelemetry(options, new EventLogWriter(log ?? Console.Error, 1, EgressLogFormat.Text));
    }

    /// <summary>Exports what OTLP has collected now (short-lived programs call it before exiting; <see cref="Dispose"/> does too).</summary>
    /// <param name="timeout">Upper bound.</param>
    public bool Flush(TimeSpan timeout) => _meterProvider?.ForceFlush((int)Math.Clamp(timeout.TotalMilliseconds, 0, int.MaxValue)) ?? true;

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _meterProvider?.Dispose();
        _eventListener?.Dispose();
        _server?.Dispose();
        _collector?.Dispose();
    }
}

using System.Diagnostics.Tracing;

namespace Egress.Telemetry.Otlp;

/// <summary>
/// Reports errors the OTLP exporter writes to its event source (the only signal for gRPC, whose client cannot
/// be wrapped). Under Native AOT event sources are off by default; the HTTP handler still reports there.
/// </summary>
internal sealed class OtlpEventSourceListener(ExportFailureReporter reporter) : EventListener
{
    private const string SourceName = "OpenTelemetry-Exporter-OpenTelemetryProtocol";

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == SourceName)
        {
            EnableEvents(eventSource, EventLevel.Error);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventSource.Name != SourceName || eventData.Level > EventLevel.Error)
        {
            return;
        }

        var detail = eventData.Payload is { Count: > 0 } payload
            ? string.Join("; ", payload.Select(p => p?.ToString()).Where(p => !string.IsNullOrEmpty(p)))
            : eventData.EventName ?? "exporter error";
        reporter.Report(detail);
    }
}

using Egress.Policy.Events;

namespace Egress.Telemetry.Otlp;

/// <summary>Logs the first export failure only; the exporter keeps retrying at every interval and decisions are never affected.</summary>
internal sealed class ExportFailureReporter(EventLogWriter log, Uri endpoint)
{
    private int _failures;

    /// <summary>Failures seen so far.</summary>
    public int Failures => Volatile.Read(ref _failures);

    public void Report(string detail)
    {
        if (Interlocked.Increment(ref _failures) == 1)
        {
            log.Warn($"OTLP metrics export to {endpoint} failed ({detail}); decisions are unaffected, export is retried every interval and further failures are not logged");
        }
    }
}

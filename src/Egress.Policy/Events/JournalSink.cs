namespace Egress.Policy.Events;

/// <summary>
/// Appends each event to the cross-process <see cref="EventJournal"/>. A failed append is counted here and on
/// <c>egress_journal_write_failures_total</c> (the first one is also logged as a warning) and its time kept,
/// so that the proxy's <c>/healthz</c> reports the trail degraded; the decision stands and the other sinks
/// still see the event.
/// </summary>
public sealed class JournalSink : EgressEventSink, IDisposable
{
    private readonly EventLogWriter? _log;
    private readonly Telemetry.EgressMetrics? _metrics;
    private readonly TimeProvider _time;
    private long _failures;
    private long _lastFailure = long.MinValue;

    /// <summary>Creates the sink for <paramref name="journal"/>, warning on <paramref name="log"/>.</summary>
    public JournalSink(EventJournal journal, EventLogWriter? log = null)
        : this(journal, log, null, null)
    {
    }

    /// <summary>
    /// Creates the sink for <paramref name="journal"/>, warning on <paramref name="log"/> and counting failed
    /// appends on <paramref name="metrics"/>.
    /// </summary>
    public JournalSink(EventJournal journal, EventLogWriter? log, Telemetry.EgressMetrics? metrics, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(journal);
        Journal = journal;
        _log = log;
        _metrics = metrics;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The journal written.</summary>
    public EventJournal Journal { get; }

    /// <summary>Appends that failed.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Whether an append failed within the last <paramref name="window"/>.</summary>
    public bool FailedWithin(TimeSpan window)
    {
        long last = Interlocked.Read(ref _lastFailure);
        return last != long.MinValue && _time.GetElapsedTime(last) < window;
    }

    /// <inheritdoc />
    public override void Write(EgressEvent evt, TimeSpan? decisionTime)
    {
        try
        {
            Journal.Append(evt);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            // Report the first failure, count the rest; the decision itself stands.
            Interlocked.Exchange(ref _lastFailure, _time.GetTimestamp());
            _metrics?.RecordJournalWriteFailure();
            if (Interlocked.Increment(ref _failures) == 1)
            {
                _log?.Warn(ex.Message);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => Journal.Dispose();
}

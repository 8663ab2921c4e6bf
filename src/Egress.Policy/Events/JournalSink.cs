namespace Egress.Policy.Events;

/// <summary>
/// Appends each event to the cross-process <see cref="EventJournal"/>. A failed append is counted (the first one
/// is also logged as a warning); the decision stands and the other sinks still see the event.
/// </summary>
public sealed class JournalSink : EgressEventSink, IDisposable
{
    private readonly EventLogWriter? _log;
    private long _failures;

    /// <summary>Creates the sink for <paramref name="journal"/>, warning on <paramref name="log"/>.</summary>
    public JournalSink(EventJournal journal, EventLogWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(journal);
        Journal = journal;
        _log = log;
    }

    /// <summary>The journal written.</summary>
    public EventJournal Journal { get; }

    /// <summary>Appends that failed.</summary>
    public long Failures => Interlocked.Read(ref _failures);

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
            if (Interlocked.Increment(ref _failures) == 1)
            {
                _log?.Warn(ex.Message);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => Journal.Dispose();
}

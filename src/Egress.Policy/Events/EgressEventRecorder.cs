namespace Egress.Policy.Events;

/// <summary>
/// Records every decision of this process: counts it, builds its typed event and hands the event to each
/// <see cref="EgressEventSink"/> given at construction (ring, log, journal, metrics, the host's own), then to
/// <see cref="Recorded"/> observers. Thread-safe; never throws into the caller.
/// </summary>
public sealed class EgressEventRecorder : IDisposable
{
    private readonly TimeProvider _time;
    private readonly RecentEventsRing? _ring;
    private readonly JournalSink? _journal;
    private EgressEventSink[] _sinks;
    private long _allowed;
    private long _blocked;
    private long _wouldBlock;

    /// <summary>Creates a recorder with the standard sinks: ring, log, journal and <see cref="Telemetry.EgressMetrics.Shared"/>.</summary>
    /// <param name="recentCapacity">Capacity of the recent-events ring (0 disables it).</param>
    /// <param name="log">Where log lines go, or <see langword="null"/> for none.</param>
    /// <param name="journal">Cross-process journal, or <see langword="null"/>.</param>
    /// <param name="time">Clock for event timestamps.</param>
    public EgressEventRecorder(int recentCapacity, EventLogWriter? log, EventJournal? journal, TimeProvider? time = null)
        : this(StandardSinks(recentCapacity, log, journal, Telemetry.EgressMetrics.Shared), time)
    {
    }

    /// <summary>Creates a recorder that writes to <paramref name="sinks"/>, in that order.</summary>
    /// <param name="sinks">Where events go. The first <see cref="RecentEventsRing"/>, <see cref="EventLogWriter"/>,
    /// <see cref="JournalSink"/> and <see cref="Telemetry.EgressMetrics"/> among them back <see cref="RecentEvents"/>,
    /// <see cref="Log"/>, <see cref="Journal"/> and <see cref="Metrics"/>.</param>
    /// <param name="time">Clock for event timestamps.</param>
    public EgressEventRecorder(IEnumerable<EgressEventSink> sinks, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(sinks);
        _sinks = [.. sinks.Where(s => s is not null)];
        _ring = _sinks.OfType<RecentEventsRing>().FirstOrDefault();
        _journal = _sinks.OfType<JournalSink>().FirstOrDefault();
        Log = _sinks.OfType<EventLogWriter>().FirstOrDefault();
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Raised after each event is recorded. Observer exceptions are swallowed.</summary>
    public event Action<EgressEvent>? Recorded;

    /// <summary>Log writer, if any.</summary>
    public EventLogWriter? Log { get; }

    /// <summary>Journal, if any.</summary>
    public EventJournal? Journal => _journal?.Journal;

    /// <summary>The sinks events go to, in order.</summary>
    public IReadOnlyList<EgressEventSink> Sinks => Volatile.Read(ref _sinks);

    /// <summary>
    /// The metrics sink (<see cref="Telemetry.EgressMetrics.Shared"/> unless others were given), or <see langword="null"/>
    /// for none. Prefer giving it at construction (<c>EgressPolicy.Create(..., metrics)</c>, <c>AddEgressPolicy</c>);
    /// setting it replaces the metrics sink, for hosts that attach their meter after the policy exists.
    /// </summary>
    public Telemetry.EgressMetrics? Metrics
    {
        get => Volatile.Read(ref _sinks).OfType<Telemetry.EgressMetrics>().FirstOrDefault();
        set
        {
            var current = Volatile.Read(ref _sinks);
            var replaced = current.Where(s => s is not Telemetry.EgressMetrics).ToList();
            if (value is not null)
            {
                int at = Array.FindIndex(current, s => s is Telemetry.EgressMetrics);
                replaced.Insert(at < 0 ? replaced.Count : Math.Min(at, replaced.Count), value);
            }

            Volatile.Write(ref _sinks, [.. replaced]);
        }
    }

    /// <summary>ALLOW events (including audit-mode would-be denials).</summary>
    public long AllowedTotal => Interlocked.Read(ref _allowed);

    /// <summary>DENY events.</summary>
    public long BlockedTotal => Interlocked.Read(ref _blocked);

    /// <summary>Audit-mode events that would have been denied.</summary>
    public long WouldBlockTotal => Interlocked.Read(ref _wouldBlock);

    /// <summary>Journal appends that failed (the event is still counted, logged and kept in the ring).</summary>
    public long JournalFailures => _journal?.Failures ?? 0;

    /// <summary>Whether a journal append failed within the last <paramref name="window"/> (false without a journal).</summary>
    public bool JournalFailedWithin(TimeSpan window) => _journal?.FailedWithin(window) ?? false;

    /// <summary>Builds and records the event for <paramref name="decision"/> (untimed; prefer <see cref="EgressPolicy.Evaluate(string, in DecisionContext)"/>).</summary>
    /// <param name="decision">The decision.</param>
    /// <param name="source">Enforcement point: <c>http</c>, <c>proxy</c>, <c>check</c>, …</param>
    /// <param name="rawInput">What was asked, used as the host when it could not be canonicalised.</param>
    public EgressEvent Record(in EgressDecision decision, string source, string? rawInput = null) =>
        Record(decision, new DecisionContext(source), rawInput, null);

    /// <summary>Builds and records the event for <paramref name="decision"/>, and its duration when timed.</summary>
    /// <param name="decision">The decision.</param>
    /// <param name="context">Who asked: source, client, role.</param>
    /// <param name="rawInput">What was asked, used as the host when it could not be canonicalised.</param>
    /// <param name="decisionTime">Time spent deciding, or <see langword="null"/> when nothing was decided (a reused decision).</param>
    public EgressEvent Record(in EgressDecision decision, in DecisionContext context, string? rawInput, TimeSpan? decisionTime)
    {
        string source = context.Source;
        var evt = new EgressEvent
        {
            Timestamp = _time.GetUtcNow().ToUnixTimeMilliseconds(),
            Action = decision.Action,
            Host = decision.DestinationHost ?? DisplayHost(rawInput),
            Port = decision.Port,
            Outcome = decision.Outcome,
            Address = decision.Address is { } address ? Destinations.HostCanonicalizer.FormatAddress(address) : null,
            Range = decision.AddressRange,
            Reason = decision.Reason,
            Token = decision.MatchedToken,
            Source = source,
            Client = context.Client is { } client ? Configuration.EgressOptionsReader.Printable(client) : null,
            Role = context.Role is { } role ? Configuration.EgressOptionsReader.Printable(role) : null,
            Pid = Environment.ProcessId,
            Thread = Environment.CurrentManagedThreadId,
            WouldDeny = decision.WouldDeny,
        };
        Write(evt, decisionTime);
        return evt;
    }

    /// <summary>Records an event built elsewhere (untimed).</summary>
    public void Record(EgressEvent evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        Write(evt, null);
    }

    /// <summary>
    /// What to record as the host of a destination that could not be canonicalised: the authority without
    /// scheme, userinfo, path, query or fragment (never credentials), bounded and printable.
    /// </summary>
    internal static string DisplayHost(string? rawInput)
    {
        var s = (rawInput ?? string.Empty).AsSpan().Trim();
        int scheme = s.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            s = s[(scheme + 3)..];
        }

        int end = s.IndexOfAny("/\\?#");
        if (end >= 0)
        {
            s = s[..end];
        }

        int at = s.LastIndexOf('@');
        if (at >= 0)
        {
            s = s[(at + 1)..];
        }

        return s.IsEmpty ? "(invalid)" : Configuration.EgressOptionsReader.Printable(s.ToString());
    }

    /// <summary>The recent events, oldest first.</summary>
    public IReadOnlyList<EgressEvent> RecentEvents() => _ring?.Snapshot() ?? [];

    /// <summary>Closes the journal. Other sinks belong to whoever created them (metrics to the host or container).</summary>
    public void Dispose() => _journal?.Dispose();

    private static List<EgressEventSink> StandardSinks(int recentCapacity, EventLogWriter? log, EventJournal? journal, Telemetry.EgressMetrics? metrics)
    {
        var sinks = new List<EgressEventSink> { new RecentEventsRing(recentCapacity) };
        if (log is not null)
        {
            sinks.Add(log);
        }

        if (journal is not null)
        {
            sinks.Add(new JournalSink(journal, log, metrics));
        }

        if (metrics is not null)
        {
            sinks.Add(metrics);
        }

        return sinks;
    }

    private void Write(EgressEvent evt, TimeSpan? decisionTime)
    {
        if (evt.IsBlocked)
        {
            Interlocked.Increment(ref _blocked);
        }
        else
        {
            Interlocked.Increment(ref _allowed);
            if (evt.WouldDeny)
            {
                Interlocked.Increment(ref _wouldBlock);
            }
        }

        foreach (var sink in Volatile.Read(ref _sinks))
        {
            try
            {
                sink.Write(evt, decisionTime);
            }
            catch (Exception)
            {
                // A sink never breaks a decision (its contract says it does not throw; this holds it to that).
            }
        }

        var observers = Recorded;
        if (observers is not null)
        {
            foreach (Action<EgressEvent> observer in observers.GetInvocationList())
            {
                try
                {
                    observer(evt);
                }
                catch (Exception)
                {
                    // Telemetry never throws into the request path.
                }
            }
        }
    }
}

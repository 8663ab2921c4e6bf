namespace Egress.Policy.Events;

/// <summary>
/// Records every decision of this process: counters, the recent-events ring, log lines and the optional
/// cross-process journal, and notifies <see cref="Recorded"/> observers (metrics). Thread-safe; never
/// throws into the caller.
/// </summary>
public sealed class EgressEventRecorder : IDisposable
{
    private readonly EgressEvent?[] _ring;
    private readonly Lock _ringGate = new();
    private readonly TimeProvider _time;
    private long _allowed;
    private long _blocked;
    private long _wouldBlock;
    private long _journalFailures;
    private int _ringNext;
    private int _ringCount;

    /// <summary>Creates a recorder.</summary>
    /// <param name="recentCapacity">Capacity of the recent-events ring (0 disables it).</param>
    /// <param name="log">Where log lines go, or <see langword="null"/> for none.</param>
    /// <param name="journal">Cross-process journal, or <see langword="null"/>.</param>
    /// <param name="time">Clock for event timestamps.</param>
    public EgressEventRecorder(int recentCapacity, EventLogWriter? log, EventJournal? journal, TimeProvider? time = null)
    {
        _ring = new EgressEvent?[Math.Max(0, recentCapacity)];
        Log = log;
        Journal = journal;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Raised after each event is recorded. Observer exceptions are swallowed.</summary>
    public event Action<EgressEvent>? Recorded;

    /// <summary>Log writer, if any.</summary>
    public EventLogWriter? Log { get; }

    /// <summary>Journal, if any.</summary>
    public EventJournal? Journal { get; }

    /// <summary>Instruments that count recorded decisions (<see cref="Telemetry.EgressMetrics.Shared"/> by default; <see langword="null"/> for none).</summary>
    public Telemetry.EgressMetrics? Metrics { get; set; } = Telemetry.EgressMetrics.Shared;

    /// <summary>ALLOW events (including audit-mode would-be denials).</summary>
    public long AllowedTotal => Interlocked.Read(ref _allowed);

    /// <summary>DENY events.</summary>
    public long BlockedTotal => Interlocked.Read(ref _blocked);

    /// <summary>Audit-mode events that would have been denied.</summary>
    public long WouldBlockTotal => Interlocked.Read(ref _wouldBlock);

    /// <summary>Journal appends that failed (the event is still counted, logged and kept in the ring).</summary>
    public long JournalFailures => Interlocked.Read(ref _journalFailures);

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
        if (decisionTime is { } elapsed)
        {
            Metrics?.RecordDuration(elapsed, decision, source);
        }

        Metrics?.RecordDecision(decision, source);
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
        Record(evt);
        return evt;
    }

    /// <summary>Records an event built elsewhere.</summary>
    public void Record(EgressEvent evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
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

        if (_ring.Length > 0)
        {
            lock (_ringGate)
            {
                _ring[_ringNext] = evt;
                _ringNext = (_ringNext + 1) % _ring.Length;
                _ringCount = Math.Min(_ringCount + 1, _ring.Length);
            }
        }

        Log?.Write(evt);
        if (Journal is not null)
        {
            try
            {
                Journal.Append(evt);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                // Report the first failure, count the rest; the decision itself stands.
                if (Interlocked.Increment(ref _journalFailures) == 1)
                {
                    Log?.Warn(ex.Message);
                }
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
    public IReadOnlyList<EgressEvent> RecentEvents()
    {
        lock (_ringGate)
        {
            var result = new EgressEvent[_ringCount];
            int start = (_ringNext - _ringCount + _ring.Length) % Math.Max(1, _ring.Length);
            for (int i = 0; i < _ringCount; i++)
            {
                result[i] = _ring[(start + i) % _ring.Length]!;
            }

            return result;
        }
    }

    /// <inheritdoc />
    public void Dispose() => Journal?.Dispose();
}

using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace Egress.Policy.Telemetry;

/// <summary>
/// The core's instruments on <see cref="System.Diagnostics.Metrics"/> (meter <see cref="EgressMetricNames.Meter"/>):
/// allowed, blocked and would-block counters and a decision-duration histogram. Nothing is exported here;
/// any <see cref="MeterListener"/> (Egress.Telemetry, OpenTelemetry, dotnet-counters) can collect them. Each
/// instrument checks <see cref="Instrument.Enabled"/> before building tags, so with no listener a decision
/// pays a few field reads. Tag cardinality is bounded: sources, tokens and denied hosts are each capped, and
/// values past the cap are reported as <see cref="EgressMetricNames.Other"/>.
/// </summary>
public sealed class EgressMetrics : Events.EgressEventSink, IDisposable
{
    /// <summary>Distinct denied hosts reported in <see cref="EgressMetricNames.HostTag"/> before the rest become <c>other</c>.</summary>
    public const int DefaultMaxHostTags = 100;

    /// <summary>Distinct sources reported before the rest become <c>other</c>.</summary>
    public const int MaxSourceTags = 16;

    /// <summary>Distinct matched tokens reported before the rest become <c>other</c>.</summary>
    public const int MaxTokenTags = 256;

    /// <summary>Distinct roles reported before the rest become <c>other</c>: the most roles a policy file may hold, plus the default.</summary>
    public const int MaxRoleTags = Roles.RoleFile.MaxRoles + 1;

    private static readonly double[] DurationBuckets =
        [1e-7, 2.5e-7, 5e-7, 1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 1e-2];

    private static readonly Lazy<EgressMetrics> SharedInstance = new(() => new EgressMetrics());

    private readonly bool _ownsMeter;
    private readonly Counter<long> _allowed;
    private readonly Counter<long> _blocked;
    private readonly Counter<long> _wouldBlock;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _journalWriteFailures;
    private readonly BoundedTagValues _hosts;
    private readonly BoundedTagValues _sources = new(MaxSourceTags);
    private readonly BoundedTagValues _tokens = new(MaxTokenTags);
    private readonly BoundedTagValues _roles = new(MaxRoleTags);

    /// <summary>Creates the instruments on a new meter.</summary>
    /// <param name="meterFactory">Creates the meter when dependency injection is present; otherwise the meter is owned by this instance.</param>
    /// <param name="maxHostTags">Cap on distinct denied hosts in the host tag.</param>
    public EgressMetrics(IMeterFactory? meterFactory = null, int maxHostTags = DefaultMaxHostTags)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxHostTags);
        var meterOptions = new MeterOptions(EgressMetricNames.Meter) { Version = typeof(EgressMetrics).Assembly.GetName().Version?.ToString() };
        Meter = meterFactory?.Create(meterOptions) ?? new Meter(meterOptions);
        _ownsMeter = meterFactory is null;
        MaxHostTags = maxHostTags;
        _hosts = new BoundedTagValues(maxHostTags);
        _allowed = Meter.CreateCounter<long>(EgressMetricNames.Allowed, "{decision}", "Decisions that let the destination through (audit-mode would-be denials included).");
        _blocked = Meter.CreateCounter<long>(EgressMetricNames.Blocked, "{decision}", "Decisions that denied the destination.");
        _wouldBlock = Meter.CreateCounter<long>(EgressMetricNames.WouldBlock, "{decision}", "Audit-mode decisions that let through a destination the policy would deny.");
        _journalWriteFailures = Meter.CreateCounter<long>(EgressMetricNames.JournalWriteFailures, "{event}", "Events the journal (EGRESS_EVENTS_FILE) could not append: missing from the audit trail.");
        _duration = Meter.CreateHistogram(
            EgressMetricNames.DecisionDuration,
            "s",
            "Time to decide one destination (parse, canonicalise, match).",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
    }

    /// <summary>The process-wide instance that policies use unless given another one.</summary>
    public static EgressMetrics Shared => SharedInstance.Value;

    /// <summary>The meter holding the instruments.</summary>
    public Meter Meter { get; }

    /// <summary>Cap on distinct denied hosts in the host tag.</summary>
    public int MaxHostTags { get; }

    /// <summary>A start timestamp for <see cref="RecordDuration(long, in EgressDecision, string)"/>, or 0 when no one listens to the histogram.</summary>
    public long StartTimestamp() => _duration.Enabled ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Records the time since <paramref name="startTimestamp"/> (from <see cref="StartTimestamp"/>); nothing when it is 0.</summary>
    /// <param name="startTimestamp">The value <see cref="StartTimestamp"/> returned before deciding.</param>
    /// <param name="decision">The decision taken.</param>
    /// <param name="source">Enforcement point.</param>
    public void RecordDuration(long startTimestamp, in EgressDecision decision, string source)
    {
        if (startTimestamp != 0 && _duration.Enabled)
        {
            RecordDurationCore(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, decision.Allowed, source);
        }
    }

    /// <summary>Records <paramref name="elapsed"/>, the time spent deciding, on the decision-duration histogram.</summary>
    /// <param name="elapsed">Time spent deciding.</param>
    /// <param name="decision">The decision taken.</param>
    /// <param name="source">Enforcement point.</param>
    public void RecordDuration(TimeSpan elapsed, in EgressDecision decision, string source)
    {
        if (_duration.Enabled)
        {
            RecordDurationCore(elapsed.TotalSeconds, decision.Allowed, source);
        }
    }

    /// <summary>The sink: counts the event and records its decision time on the histogram (every source).</summary>
    /// <param name="evt">The recorded event.</param>
    /// <param name="decisionTime">Time spent deciding, when a decision was made.</param>
    public override void Write(Events.EgressEvent evt, TimeSpan? decisionTime)
    {
        ArgumentNullException.ThrowIfNull(evt);
        bool allowed = evt.Action == "ALLOW";
        if (decisionTime is { } elapsed && _duration.Enabled)
        {
            RecordDurationCore(elapsed.TotalSeconds, allowed, evt.Source);
        }

        var outcome = evt.Outcome ?? (allowed && !evt.WouldDeny ? EgressOutcome.Allowed : EgressOutcome.NotInAllowlist);
        string? host = outcome == EgressOutcome.InvalidDestination ? null : evt.Host;
        if (allowed)
        {
            if (_allowed.Enabled)
            {
                AddAllowed(evt.Token, evt.Source, evt.Role);
            }

            if (evt.WouldDeny && _wouldBlock.Enabled)
            {
                AddDenial(_wouldBlock, outcome, host, evt.Source, evt.Role);
            }
        }
        else if (_blocked.Enabled)
        {
            AddDenial(_blocked, outcome, host, evt.Source, evt.Role);
        }
    }

    /// <summary>Counts one event the journal could not append (see <see cref="Events.JournalSink"/>).</summary>
    public void RecordJournalWriteFailure() => _journalWriteFailures.Add(1);

    /// <summary>Counts one decision on the allowed, blocked and would-block counters.</summary>
    /// <param name="decision">The decision taken.</param>
    /// <param name="source">Enforcement point.</param>
    public void RecordDecision(in EgressDecision decision, string source)
    {
        // Only Enabled checks here: tag lists are large structs whose zeroing would cost every decision.
        if (decision.Allowed)
        {
            if (_allowed.Enabled)
            {
                AddAllowed(decision.MatchedToken, source);
            }

            if (decision.WouldDeny && _wouldBlock.Enabled)
            {
                AddDenial(_wouldBlock, decision.Outcome, decision.DestinationHost, source);
            }
        }
        else if (_blocked.Enabled)
        {
            AddDenial(_blocked, decision.Outcome, decision.DestinationHost, source);
        }
    }

    /// <summary>Disposes the meter when this instance created it (a factory's meters are disposed by the factory).</summary>
    public void Dispose()
    {
        if (_ownsMeter && !ReferenceEquals(this, SharedInstance.IsValueCreated ? SharedInstance.Value : null))
        {
            Meter.Dispose();
        }
    }

    /// <summary>The tag value for an outcome.</summary>
    public static string OutcomeName(EgressOutcome outcome) => outcome switch
    {
        EgressOutcome.Allowed => "allowed",
        EgressOutcome.NotInAllowlist => "not_in_allowlist",
        EgressOutcome.InvalidDestination => "invalid_destination",
        EgressOutcome.SpecialPurposeAddress => "special_purpose_address",
        EgressOutcome.ProtocolNotAllowed => "protocol_not_allowed",
        _ => EgressMetricNames.Other,
    };

    // Tags are added in ordinal order of their names, which lets exporters find the series without sorting.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RecordDurationCore(double seconds, bool allowed, string source)
    {
        var tags = new TagList
        {
            { EgressMetricNames.ActionTag, allowed ? "allow" : "deny" },
            { EgressMetricNames.SourceTag, _sources.Admit(source) },
        };
        _duration.Record(seconds, in tags);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AddAllowed(string? token, string source, string? role = null)
    {
        var tags = new TagList();
        if (role is not null)
        {
            tags.Add(EgressMetricNames.RoleTag, _roles.Admit(role));
        }

        tags.Add(EgressMetricNames.SourceTag, _sources.Admit(source));
        tags.Add(EgressMetricNames.TokenTag, token is null ? EgressMetricNames.None : _tokens.Admit(token));
        _allowed.Add(1, in tags);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AddDenial(Counter<long> counter, EgressOutcome outcome, string? host, string source, string? role = null)
    {
        var tags = new TagList { { EgressMetricNames.OutcomeTag, OutcomeName(outcome) } };
        if (role is not null)
        {
            tags.Add(EgressMetricNames.RoleTag, _roles.Admit(role));
        }

        tags.Add(EgressMetricNames.SourceTag, _sources.Admit(source));
        tags.Add(EgressMetricNames.HostTag, host is null ? EgressMetricNames.InvalidHost : _hosts.Admit(host));
        counter.Add(1, in tags);
    }
}

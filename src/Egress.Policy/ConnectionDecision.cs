using System.Diagnostics;
using System.Net;
using Egress.Policy.Destinations;

namespace Egress.Policy;

/// <summary>
/// The decision of one connection, for enforcement points that resolve and dial: the host is decided when
/// this is created (<see cref="EgressPolicy.BeginConnection"/>), each resolved address is decided with
/// <see cref="DecideAddress"/>, and exactly one event is recorded with <see cref="Record(in EgressDecision)"/>:
/// the chosen address's decision when one was dialled, else the host decision or the first denial. The time
/// spent deciding (not resolving or connecting) is summed into the event's duration. Not thread-safe: one
/// connection attempt uses it.
/// </summary>
public sealed class ConnectionDecision
{
    private readonly EgressPolicy _policy;
    private readonly DecisionContext _context;
    private TimeSpan _elapsed;
    private EgressDecision? _firstDenied;

    internal ConnectionDecision(EgressPolicy policy, in Destination destination, in DecisionContext context)
    {
        _policy = policy;
        _context = context;
        Destination = destination;
        long started = Stopwatch.GetTimestamp();
        Host = policy.Decide(destination);
        _elapsed = Stopwatch.GetElapsedTime(started);
    }

    /// <summary>The destination being connected to.</summary>
    public Destination Destination { get; }

    /// <summary>The decision on the host alone.</summary>
    public EgressDecision Host { get; }

    /// <summary>The first address decision that was not allowed, or <see langword="null"/>.</summary>
    public EgressDecision? FirstDenied => _firstDenied;

    /// <summary>Whether the event was recorded.</summary>
    public bool IsRecorded { get; private set; }

    /// <summary>
    /// Decides <paramref name="address"/>, one the host resolved to (IPv4-mapped IPv6 is judged as IPv4): the
    /// host's decision with the address and its range, or a special-purpose denial. Does not record.
    /// </summary>
    public EgressDecision DecideAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        long started = Stopwatch.GetTimestamp();
        var decision = _policy.DecideAddress(Host, Destination, address);
        _elapsed += Stopwatch.GetElapsedTime(started);
        if (!decision.Allowed)
        {
            _firstDenied ??= decision;
        }

        return decision;
    }

    /// <summary>
    /// Decides <paramref name="name"/>, another name the traffic carries for this destination (a <c>Host</c>
    /// header, a TLS SNI name; see <see cref="EgressPolicy.Decide(in Destination, string, string)"/>), against
    /// the host decision: the host decision when the name is allowed or absent, else the name's denial. Does not record.
    /// </summary>
    public EgressDecision DecideName(string? name, string nameKind)
    {
        ArgumentNullException.ThrowIfNull(nameKind);
        if (name is null || Host.Outcome != EgressOutcome.Allowed)
        {
            return Host;
        }

        long started = Stopwatch.GetTimestamp();
        var decision = _policy.DecideName(Host, Destination, name, nameKind);
        _elapsed += Stopwatch.GetElapsedTime(started);
        if (!decision.Allowed)
        {
            _firstDenied ??= decision;
        }

        return decision;
    }

    /// <summary>
    /// Records <paramref name="decision"/> (one from <see cref="Host"/> or <see cref="DecideAddress"/>) as this
    /// connection's one event, with the summed decision time. Later calls record nothing and return null.
    /// </summary>
    public Events.EgressEvent? Record(in EgressDecision decision)
    {
        if (IsRecorded)
        {
            return null;
        }

        IsRecorded = true;
        return _policy.Events.Record(decision, _context, null, _elapsed);
    }

    /// <summary>Records the first denied address decision if there was one, else the host decision.</summary>
    public Events.EgressEvent? Record() => Record(_firstDenied ?? Host);
}

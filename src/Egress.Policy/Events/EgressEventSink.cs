namespace Egress.Policy.Events;

/// <summary>
/// One place recorded events go: the recent-events ring, the log, the journal, metrics, or the host's own.
/// Sinks are given to the recorder when it is built (as Polly's <c>TelemetryListener</c> is given to a
/// pipeline) and each sees every event, in the order given. A sink must be thread-safe and must not throw:
/// the recorder swallows what it throws, so that telemetry never breaks a decision.
/// </summary>
public abstract class EgressEventSink
{
    /// <summary>Receives one recorded event.</summary>
    /// <param name="evt">The event, with its typed fields.</param>
    /// <param name="decisionTime">Time spent deciding, or <see langword="null"/> when nothing was decided (a reused decision, an event built elsewhere).</param>
    public abstract void Write(EgressEvent evt, TimeSpan? decisionTime);
}

namespace Egress.Isolation.Probe;

/// <summary>How one escape route ended.</summary>
public enum ProbeOutcome
{
    /// <summary>The policy stopped it and recorded the denial, and the target saw nothing.</summary>
    Blocked,

    /// <summary>It got through: the target saw the attempt, or an answer came back from outside the policy.</summary>
    Escaped,

    /// <summary>It reached nothing, but the policy did not record it either: something other than the policy stopped it, so nothing proves the policy would.</summary>
    Undecided,

    /// <summary>Not tried here (e.g. curl not on PATH, no IPv6 loopback).</summary>
    Skipped,
}

/// <summary>The verdict on one route.</summary>
/// <param name="Route">The route.</param>
/// <param name="Outcome">How it ended.</param>
/// <param name="Detail">What the canary saw, what the target saw, and the event that decided it.</param>
public sealed record ProbeResult(ProbeRoute Route, ProbeOutcome Outcome, string Detail)
{
    /// <summary>The outcome as printed and in JSON: <c>blocked</c>, <c>ESCAPED</c>, <c>undecided</c>, <c>skipped</c>.</summary>
    public string OutcomeText => Outcome switch
    {
        ProbeOutcome.Blocked => "blocked",
        ProbeOutcome.Escaped => "ESCAPED",
        ProbeOutcome.Undecided => "undecided",
        _ => "skipped",
    };

    /// <summary>
    /// Undecided only because the target's port was, by chance, also that of one of run's own listeners inside the
    /// namespace (<see cref="ProbeJudge"/>): the attempt tested nothing, and a probe with new targets will.
    /// </summary>
    public bool PortCollision { get; init; }

    /// <summary>Whether this route makes the probe fail.</summary>
    public bool Failed => Outcome is ProbeOutcome.Escaped or ProbeOutcome.Undecided;
}

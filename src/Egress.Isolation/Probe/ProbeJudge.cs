using Egress.Policy.Events;

namespace Egress.Isolation.Probe;

/// <summary>
/// Decides each route of <c>run --probe</c> from three witnesses: the target (did anything reach it?),
/// the canary (did an answer come back?) and the policy's events (was the attempt denied and recorded?).
/// Only a route that reached nothing <em>and</em> was recorded as a denial counts as blocked: a route
/// stopped by something else (no network, a missing resolver) proves nothing about the policy.
/// </summary>
public static class ProbeJudge
{
    /// <summary>Judges every route.</summary>
    /// <param name="targets">The targets the canaries aimed at.</param>
    /// <param name="canary">What the canaries reported (<see cref="ProbeCanaries.ReadResults"/>); empty when they did not report.</param>
    /// <param name="events">Every event the probe's policy recorded while the child ran.</param>
    public static IReadOnlyList<ProbeResult> Judge(ProbeTargets targets, IReadOnlyDictionary<string, (bool Answered, string Detail)> canary, IReadOnlyList<EgressEvent> events)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(canary);
        ArgumentNullException.ThrowIfNull(events);
        return [.. ProbeRoute.All.Select(route => Judge(route, targets, canary, events))];
    }

    private static ProbeResult Judge(ProbeRoute route, ProbeTargets targets, IReadOnlyDictionary<string, (bool Answered, string Detail)> canary, IReadOnlyList<EgressEvent> events)
    {
        if (!canary.TryGetValue(route.Name, out var seen))
        {
            seen = (false, "the canary did not report");
        }

        if (seen.Detail.StartsWith(ProbeCanaries.Skip, StringComparison.Ordinal) && targets.Hits(route) == 0)
        {
            string why = seen.Detail == ProbeCanaries.Skip ? "no IPv6 loopback on this machine" : seen.Detail[(ProbeCanaries.Skip.Length + 1)..].Trim();
            return new ProbeResult(route, ProbeOutcome.Skipped, why);
        }

        int hits = targets.Hits(route);
        if (hits > 0 || seen.Answered)
        {
            string reached = hits > 0 ? $"{targets.Describe(route)} saw {hits} attempt(s)" : "an answer came back from outside the policy";
            return new ProbeResult(route, ProbeOutcome.Escaped, $"{reached}; canary: {seen.Detail}");
        }

        var denial = events.FirstOrDefault(e => e.Action == "DENY" && Matches(route, targets, e));
        return denial is null
            ? new ProbeResult(route, ProbeOutcome.Undecided, $"canary: {seen.Detail}; reached nothing, but no denial was recorded")
            : new ProbeResult(route, ProbeOutcome.Blocked, $"{seen.Detail}; DENY {denial.Authority} source={denial.Source}");
    }

    private static bool Matches(ProbeRoute route, ProbeTargets targets, EgressEvent e)
    {
        if (targets.PortOf(route) is { } port && e.Port == port && route != ProbeRoute.DnsTxt)
        {
            return true;
        }

        return targets.NameOf(route) is { } name && string.Equals(e.Host.TrimEnd('.'), name, StringComparison.OrdinalIgnoreCase);
    }
}

using System.Net;
using System.Net.Sockets;
using Egress.Policy;
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
    /// <param name="ownListeners">
    /// Where run's own listeners were bound inside the child's namespace (relay, transparent, DNS), or null. The
    /// kernel picked those ports there and these targets' ports here, so a target can share a port with one by
    /// chance: inside, a TCP connection to it then reaches that listener instead of being redirected, and proves
    /// nothing about the route (not so for the proxy route, whose target is dialled outside, nor UDP). Such a route,
    /// when nothing reached its target and no denial by the transparent forwarder decided it, is undecided with
    /// <see cref="ProbeResult.PortCollision"/> set (the probe is run again with new targets).
    /// </param>
    public static IReadOnlyList<ProbeResult> Judge(ProbeTargets targets, IReadOnlyDictionary<string, (bool Answered, string Detail)> canary, IReadOnlyList<EgressEvent> events, IReadOnlyCollection<IPEndPoint>? ownListeners = null)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(canary);
        ArgumentNullException.ThrowIfNull(events);
        return [.. ProbeRoute.All.Select(route => Judge(route, targets, canary, events, ownListeners ?? []))];
    }

    private static ProbeResult Judge(ProbeRoute route, ProbeTargets targets, IReadOnlyDictionary<string, (bool Answered, string Detail)> canary, IReadOnlyList<EgressEvent> events, IReadOnlyCollection<IPEndPoint> ownListeners)
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

        // On a colliding port only the transparent forwarder's denial decides the route (the colliding listener was
        // the transparent one, which decided the very destination): one by the proxy means the attempt landed on
        // run's relay, and the interception the route exists to test was never exercised.
        var denial = events.FirstOrDefault(e => e.Action == "DENY" && e.Source == EgressSources.Transparent && Matches(route, targets, e))
            ?? events.FirstOrDefault(e => e.Action == "DENY" && Matches(route, targets, e));
        if (denial?.Source != EgressSources.Transparent && route != ProbeRoute.Proxy && route != ProbeRoute.Udp && targets.PortOf(route) is { } port
            && ownListeners.Any(l => l.Port == port && l.AddressFamily == (route == ProbeRoute.Ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork)))
        {
            return new ProbeResult(route, ProbeOutcome.Undecided, $"canary: {seen.Detail}; the target's port {port} is also the port of run's own listener inside the namespace (chance), so the attempt did not test this route")
            {
                PortCollision = true,
            };
        }

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

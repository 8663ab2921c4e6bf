using Egress.Policy.Events;
using Egress.Policy.Summary;

namespace Egress.Cli.Commands;

/// <summary>
/// What <c>--print --json</c> writes: the upstream module's shape <c>{"config", "metrics", "recent_events"}</c>
/// (SPEC §6), built from the same records as <c>egress-summary.json</c>, so the two never disagree.
/// </summary>
internal sealed record PrintedPolicy
{
    /// <summary>The effective configuration.</summary>
    public SummaryConfig Config { get; init; } = new();

    /// <summary>Counters: <c>allowed_total</c>, <c>blocked_total</c>, <c>total</c>, then ours.</summary>
    public SummaryMetrics Metrics { get; init; } = new();

    /// <summary>The most recent events, oldest first.</summary>
    public IReadOnlyList<EgressEvent> RecentEvents { get; init; } = [];
}

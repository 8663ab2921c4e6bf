namespace Egress.Policy.Verification.Rules;

/// <summary>Rule 5: no blocked events; an error only in CI with <c>EGRESS_CI_FAIL_ON_BLOCKED=1</c>.</summary>
internal sealed class BlockedEventsRule : IVerificationRule
{
    /// <summary>How many blocked hosts the finding names.</summary>
    private const int ShownHosts = 10;

    public void Check(VerificationContext context)
    {
        var events = context.Events;
        if (events.BlockedTotal <= 0)
        {
            return;
        }

        var blockedHosts = events.BlockedHosts;
        string hosts = string.Join(", ", blockedHosts.Take(ShownHosts).Select(h => $"{h.Host} ({h.Occurrences})"));
        string message = $"{events.BlockedTotal} blocked egress event(s): {hosts}{(blockedHosts.Count > ShownHosts ? ", …" : string.Empty)}";
        context.FailIf(context.IsCi && context.Options.CiFailOnBlocked, 5, VerificationCategory.Blocked, message);
    }
}

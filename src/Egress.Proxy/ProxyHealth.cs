using System.Globalization;
using Egress.Policy;
using Egress.Policy.Configuration;

namespace Egress.Proxy;

/// <summary>
/// The <c>/healthz</c> answer: 200 <c>ok</c>, or 503 <c>degraded: …</c> naming each protection that is not
/// working — descriptors ran out recently (<see cref="DescriptorLimits"/>), or the journal could not be
/// written recently (events are missing from the audit trail; decisions go on). The state clears
/// <see cref="DescriptorLimits.DegradedFor"/> after the last failure; the counts stay on the metrics.
/// </summary>
internal static class ProxyHealth
{
    /// <summary>The status and body for <paramref name="policy"/>'s proxy.</summary>
    public static (int Status, string Body) Check(EgressPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var (status, body) = DescriptorLimits.Health();
        var events = policy.Events;
        if (!events.JournalFailedWithin(DescriptorLimits.DegradedFor))
        {
            return (status, body);
        }

        string journal = $"the journal {events.Journal?.Path} ({EgressEnvironment.EventsFile}) could not be written in the last {DescriptorLimits.DegradedFor.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s "
            + $"({events.JournalFailures.ToString(CultureInfo.InvariantCulture)} event(s) missing from it so far); decisions continue\n";
        return status == 200
            ? (503, "degraded: " + journal)
            : (503, body.TrimEnd('\n') + "; " + journal);
    }
}

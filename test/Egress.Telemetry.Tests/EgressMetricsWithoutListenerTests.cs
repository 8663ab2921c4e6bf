using System.Diagnostics.Metrics;
using Egress.Policy.Telemetry;

namespace Egress.Telemetry.Tests;

/// <summary>
/// "No listener" means none in the whole process: a listener another test starts in parallel (the SDK's
/// enables every <c>Egress.*</c> instrument) would enable this one too, so these run alone.
/// </summary>
[Collection(ProcessWideListeners.Name)]
public sealed class EgressMetricsWithoutListenerTests
{
    [Fact]
    public void WithoutListener_InstrumentsAreDisabled_AndNoTimestampIsTaken()
    {
        var metrics = new EgressMetrics();
        Assert.Equal(0, metrics.StartTimestamp());
        using var collector = TestPolicies.CollectorFor(metrics.Meter);
        Assert.NotEqual(0, metrics.StartTimestamp());
    }
}

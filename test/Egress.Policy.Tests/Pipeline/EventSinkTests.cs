using System.Net;
using Egress.Policy.Configuration;
using Egress.Policy.Destinations;
using Egress.Policy.Events;

namespace Egress.Policy.Tests.Pipeline;

public class EventSinkTests
{
    private sealed class CapturingSink : EgressEventSink
    {
        public List<(EgressEvent Event, TimeSpan? Time)> Seen { get; } = [];

        public override void Write(EgressEvent evt, TimeSpan? decisionTime)
        {
            lock (Seen)
            {
                Seen.Add((evt, decisionTime));
            }
        }
    }

    private sealed class ThrowingSink : EgressEventSink
    {
        public override void Write(EgressEvent evt, TimeSpan? decisionTime) => throw new InvalidOperationException("broken sink");
    }

    [Fact]
    public void EverySource_IsTimed_AndEverySinkSeesEachEventOnce()
    {
        var sink = new CapturingSink();
        using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = ["example.com"], LogLevel = 0 }, TextWriter.Null, null, metrics: null, sinks: [new ThrowingSink(), sink]);
        Assert.True(DestinationParser.TryParse("example.com:443", out var d, out _));

        policy.Evaluate("https://example.com/", EgressSources.Check);
        policy.Evaluate(d, EgressSources.Dns);
        var c = policy.BeginConnection(d, EgressSources.Proxy);
        c.Record(c.DecideAddress(IPAddress.Parse("93.184.216.34")));
        policy.EvaluateInvalid("unreadable", "x", EgressSources.Http);
        policy.Record(c.Host, EgressSources.Proxy); // a reused decision: not timed

        Assert.Equal(["check", "dns", "proxy", "http", "proxy"], sink.Seen.Select(s => s.Event.Source));
        Assert.All(sink.Seen.Take(4), s => Assert.NotNull(s.Time));
        Assert.Null(sink.Seen[4].Time);
        Assert.Equal(5, policy.Events.RecentEvents().Count); // the ring is a sink too, after the throwing one
    }

    [Fact]
    public void NoMetricsSink_MeansNoMetrics_AndTheStandardSinksStillWork()
    {
        using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = ["example.com"], LogLevel = 0 }, TextWriter.Null, null, metrics: null, sinks: null);

        policy.Evaluate("evil.example", EgressSources.Check);

        Assert.Null(policy.Events.Metrics);
        Assert.Contains(policy.Events.Sinks, s => s is RecentEventsRing);
        Assert.Contains(policy.Events.Sinks, s => s is EventLogWriter);
        Assert.Equal(1, policy.Events.BlockedTotal);
    }
}

using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Egress.Policy.Configuration;
using Egress.Policy.Telemetry;
using Egress.TestUtils;

namespace Egress.Policy.Tests.Events;

/// <summary>Journal appends that fail are counted on <c>egress.journal.write_failures</c> and reported as recent.</summary>
public sealed class JournalFailureMetricTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void FailedAppends_AreCountedOnTheMeterAndReportedAsRecent()
    {
        using var metrics = new EgressMetrics();
        var counted = new StrongBox<long>();
        using var listener = Listen(metrics, counted);
        string dirAsJournal = Directory.CreateDirectory(_dir.File("journal-dir")).FullName;
        using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = ["openai.com"], EventsFile = dirAsJournal }, TextWriter.Null, null, metrics, null);

        Assert.False(policy.Events.JournalFailedWithin(TimeSpan.FromMinutes(1)));
        policy.Evaluate("https://evil.example/", "test");
        policy.Evaluate("https://api.openai.com/", "test");
        policy.Evaluate("https://api.openai.com/", "test");

        Assert.Equal(3, Interlocked.Read(ref counted.Value));
        Assert.Equal(3, policy.Events.JournalFailures);
        Assert.True(policy.Events.JournalFailedWithin(TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void WorkingJournal_CountsNothing()
    {
        using var metrics = new EgressMetrics();
        var counted = new StrongBox<long>();
        using var listener = Listen(metrics, counted);
        using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = ["openai.com"], EventsFile = _dir.File("events.jsonl") }, TextWriter.Null, null, metrics, null);

        policy.Evaluate("https://evil.example/", "test");

        Assert.Equal(0, Interlocked.Read(ref counted.Value));
        Assert.False(policy.Events.JournalFailedWithin(TimeSpan.FromMinutes(1)));
        Assert.Single(File.ReadAllLines(_dir.File("events.jsonl")));
    }

    /// <summary>Sums what <paramref name="metrics"/>' journal-failure counter records into <paramref name="counted"/>.</summary>
    private static MeterListener Listen(EgressMetrics metrics, StrongBox<long> counted)
    {
        var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, metrics.Meter) && instrument.Name == EgressMetricNames.JournalWriteFailures)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref counted.Value, value));
        listener.Start();
        return listener;
    }
}

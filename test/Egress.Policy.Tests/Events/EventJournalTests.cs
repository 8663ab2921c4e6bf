using System.Text;
using System.Text.Json;
using Egress.Policy.Configuration;
using Egress.Policy.Events;
using Egress.TestUtils;

namespace Egress.Policy.Tests.Events;

public sealed class EventJournalTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static EgressEvent Event(string host, string action = "DENY") => new() { Action = action, Host = host, Port = 443, Reason = "r", Source = "test", Pid = 1 };

    private static (List<EgressEvent> Events, JournalReadResult Result) ReadAll(string path)
    {
        var events = new List<EgressEvent>();
        var result = EventJournal.Read(path, events.Add);
        return (events, result);
    }

    [Fact]
    public void AppendThenRead_RoundTripsEveryField()
    {
        var path = _dir.File("events.jsonl");
        var evt = new EgressEvent { Timestamp = 1700000000123, Action = "DENY", Host = "evil.example", Port = 8443, Reason = "not in allowlist", Token = null, Source = "proxy", Pid = 77, Thread = 3 };
        using (var journal = new EventJournal(path))
        {
            journal.Append(evt);
        }

        var (events, result) = ReadAll(path);

        Assert.Equal(evt, Assert.Single(events));
        Assert.Equal(1, result.Events);
        Assert.Equal(0, result.SkippedLines);
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        foreach (var field in new[] { "ts", "pid", "thread", "action", "host", "port", "allowed", "reason", "token", "source" })
        {
            Assert.True(doc.RootElement.TryGetProperty(field, out _), field);
        }
    }

    [Fact]
    public void Read_MissingFile_HasNoEvents()
    {
        var result = ReadAll(_dir.File("none.jsonl")).Result;
        Assert.Equal(0, result.Events);
        Assert.Equal(0, result.SkippedLines);
    }

    [Fact]
    public void Read_GarbageTruncatedAndForeignLines_AreSkippedAndCounted()
    {
        var path = _dir.File("events.jsonl");
        var good = Encoding.UTF8.GetString(EventJournal.Serialize(Event("good.example")));
        var lines = new[]
        {
            good.TrimEnd('\n'),
            "not json at all",
            good[..(good.Length / 2)],                         // torn
            "{\"action\":\"MAYBE\",\"host\":\"x\"}",              // unknown action
            "{\"action\":\"DENY\",\"host\":null}",                // null host
            "{\"action\":\"DENY\"}",                             // no host at all
            "{\"action\":\"DENY\",\"host\":\"x\",\"port\":\"eighty\"}",
            "{\"action\":\"DENY\",\"host\":\"x\",\"ts\":1e400}",
            "[1,2,3]",
            "null",
            new string('[', 10_000),
            "{\"action\":\"DENY\",\"host\":\"ok.example\",\"reason\":null,\"source\":null}",
            "",
            "   ",
            good.TrimEnd('\n') + "\r",
        };
        File.WriteAllText(path, string.Join('\n', lines) + "\n");
        File.AppendAllText(path, "\u0000\u0001\u0002\n");
        using (var fs = new FileStream(path, FileMode.Append))
        {
            fs.Write([0xff, 0xfe, 0x7b, 0x80, 0x0a]); // invalid UTF-8
        }

        var (events, result) = ReadAll(path);

        Assert.Equal(["good.example", "ok.example", "good.example"], events.Select(e => e.Host));
        Assert.Equal(12, result.SkippedLines);
        Assert.All(events, e => Assert.NotNull(e.Reason));
        Assert.All(events, e => Assert.NotNull(e.Source));
    }

    [Fact]
    public void Read_OversizedLine_IsSkippedWholeAndTheNextLineIsRead()
    {
        var path = _dir.File("events.jsonl");
        using (var w = new StreamWriter(path))
        {
            w.Write("{\"action\":\"DENY\",\"host\":\"");
            w.Write(new string('a', EventJournal.MaxLineBytes * 3));
            w.Write("\"}\n");
            w.Write(Encoding.UTF8.GetString(EventJournal.Serialize(Event("after.example"))));
            w.Write(new string('b', EventJournal.MaxLineBytes + 10));
        }

        var (events, result) = ReadAll(path);

        Assert.Equal("after.example", Assert.Single(events).Host);
        Assert.Equal(2, result.SkippedLines);
    }

    [Fact]
    public void Read_LineOfExactlyTheLimit_IsRead()
    {
        var path = _dir.File("events.jsonl");
        var prefix = "{\"action\":\"DENY\",\"host\":\"h\",\"reason\":\"";
        var suffix = "\"}";
        var line = prefix + new string('r', EventJournal.MaxLineBytes - prefix.Length - suffix.Length) + suffix;
        Assert.Equal(EventJournal.MaxLineBytes, line.Length);
        File.WriteAllText(path, line + "\n" + line + "\n");

        var (events, result) = ReadAll(path);

        Assert.Equal(2, events.Count);
        Assert.Equal(0, result.SkippedLines);
    }

    [Fact]
    public void Append_ManyThreadsAndJournalInstances_NoLineLostOrTorn()
    {
        var path = _dir.File("events.jsonl");
        const int Writers = 8, PerWriter = 500;
        Parallel.For(0, Writers, new ParallelOptions { MaxDegreeOfParallelism = Writers }, w =>
        {
            using var journal = new EventJournal(path); // a separate descriptor each, like separate processes
            for (int i = 0; i < PerWriter; i++)
            {
                journal.Append(Event($"w{w}-e{i}.example") with { Reason = new string('r', 200 + (i % 300)) });
            }
        });

        var lines = File.ReadAllLines(path);
        Assert.Equal(Writers * PerWriter, lines.Length);
        var (events, result) = ReadAll(path);
        Assert.Equal(0, result.SkippedLines);
        Assert.Equal(Writers * PerWriter, events.Select(e => e.Host).Distinct().Count());
    }

    [Fact]
    public void Recorder_JournalFailure_IsCountedAndTheDecisionStands()
    {
        var log = new StringWriter();
        var dirAsJournal = _dir.File("sub");
        Directory.CreateDirectory(dirAsJournal);
        using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = ["openai.com"], EventsFile = dirAsJournal }, log);

        var d1 = policy.Evaluate("https://evil.example/", "test");
        var d2 = policy.Evaluate("https://evil.example/", "test");

        Assert.False(d1.Allowed);
        Assert.False(d2.Allowed);
        Assert.Equal(2, policy.Events.BlockedTotal);
        Assert.Equal(2, policy.Events.JournalFailures);
        Assert.Single(log.ToString().Split('\n'), l => l.Contains("EGRESS_EVENTS_FILE", StringComparison.Ordinal));
    }
}

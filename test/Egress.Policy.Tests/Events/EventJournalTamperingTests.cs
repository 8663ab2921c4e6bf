using System.Text;
using Egress.Policy.Events;
using Egress.TestUtils;

namespace Egress.Policy.Tests.Events;

/// <summary>Glue, resynchronisation and line numbers: what foreign bytes in the journal can and cannot do.</summary>
public sealed class EventJournalTamperingTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static EgressEvent Event(string host, string action = "DENY") => new() { Timestamp = 1, Action = action, Host = host, Port = 443, Reason = "r", Source = "test", Pid = 1 };

    private static string Line(EgressEvent evt) => Encoding.UTF8.GetString(EventJournal.Serialize(evt)).TrimEnd('\n');

    private static (List<EgressEvent> Events, JournalReadResult Result) ReadAll(string path)
    {
        var events = new List<EgressEvent>();
        var result = EventJournal.Read(path, events.Add);
        return (events, result);
    }

    [Fact]
    public void Append_AfterAForeignByteWithoutNewline_StartsTheRecordOnANewLine()
    {
        var path = _dir.File("events.jsonl");
        File.WriteAllText(path, "X");
        using (var journal = new EventJournal(path))
        {
            journal.Append(Event("evil.example"));
            journal.Append(Event("second.example"));
        }

        Assert.StartsWith("X\n{\"ts\":", File.ReadAllText(path), StringComparison.Ordinal);
        var (events, result) = ReadAll(path);
        Assert.Equal(["evil.example", "second.example"], events.Select(e => e.Host));
        Assert.Equal([1L], result.UnreadableLineNumbers);
    }

    [Fact]
    public void Append_AfterATornLine_StartsTheRecordOnANewLine()
    {
        var path = _dir.File("events.jsonl");
        var deny = Line(Event("evil.example"));
        File.WriteAllText(path, deny[..20]); // a writer that died mid-line
        using (var journal = new EventJournal(path))
        {
            journal.Append(Event("after.example"));
        }

        var (events, result) = ReadAll(path);
        Assert.Equal("after.example", Assert.Single(events).Host);
        Assert.Equal([1L], result.UnreadableLineNumbers);
    }

    [Theory]
    [InlineData("X")]
    [InlineData("\u0000\u0000")]
    [InlineData("\uFEFF")]
    [InlineData("garbage with spaces ")]
    [InlineData("{\"ts\":1,\"act")]
    public void Read_RecordGluedAfterForeignBytes_IsRecoveredAndTheLineIsReportedUnreadable(string prefix)
    {
        var path = _dir.File("events.jsonl");
        File.WriteAllText(path, Line(Event("ok.example", "ALLOW")) + "\n" + prefix + Line(Event("evil.example")) + "\n");

        var (events, result) = ReadAll(path);

        Assert.Equal(["ok.example", "evil.example"], events.Select(e => e.Host));
        Assert.Equal([2L], result.UnreadableLineNumbers);
        Assert.Equal(1, result.RecoveredEvents);
    }

    [Fact]
    public void Read_TwoRecordsOnOneLine_AreBothRecovered()
    {
        var path = _dir.File("events.jsonl");
        File.WriteAllText(path, Line(Event("a.example", "ALLOW")) + Line(Event("evil.example")) + "\n");

        var (events, result) = ReadAll(path);

        Assert.Equal(["a.example", "evil.example"], events.Select(e => e.Host));
        Assert.Equal(1, result.UnreadableLines);
    }

    [Fact]
    public void Read_CarriageReturnHidingARecordInsideALine_IsUnreadableAndTheRecordIsRecovered()
    {
        var path = _dir.File("events.jsonl");
        File.WriteAllText(path, Line(Event("shown.example", "ALLOW")) + "\r" + Line(Event("hidden.example")) + "\n");

        var (events, result) = ReadAll(path);

        Assert.Equal(["shown.example", "hidden.example"], events.Select(e => e.Host));
        Assert.Equal([1L], result.UnreadableLineNumbers);
    }

    [Fact]
    public void Read_UnreadableLines_AreNumberedFromOne()
    {
        var path = _dir.File("events.jsonl");
        var good = Line(Event("good.example"));
        File.WriteAllText(path, string.Join('\n', good, good, "junk", good, "", "{\"action\":\"DENY\"}", good, "\u0000") + "\n" + good[..30]);

        var (events, result) = ReadAll(path);

        Assert.Equal(4, events.Count);
        Assert.Equal([3L, 6L, 8L, 9L], result.UnreadableLineNumbers); // line 5 is blank; 9 is a truncated final line
        Assert.Equal(4, result.UnreadableLines);
    }

    [Fact]
    public void Read_OverlongLine_IsNumberedAndTheNextLineKeepsItsNumber()
    {
        var path = _dir.File("events.jsonl");
        File.WriteAllText(path, new string('x', EventJournal.MaxLineBytes * 2) + "\n" + "junk\n" + Line(Event("after.example")) + "\n");

        var (events, result) = ReadAll(path);

        Assert.Equal("after.example", Assert.Single(events).Host);
        Assert.Equal([1L, 2L], result.UnreadableLineNumbers);
    }

    [Fact]
    public void Read_ManyUnreadableLines_KeepsABoundedListAndAnExactCount()
    {
        var path = _dir.File("events.jsonl");
        File.WriteAllText(path, string.Concat(Enumerable.Repeat("junk\n", 1000)));

        var result = ReadAll(path).Result;

        Assert.Equal(1000, result.UnreadableLines);
        Assert.Equal(JournalReadResult.MaxLineNumbers, result.UnreadableLineNumbers.Count);
    }
}

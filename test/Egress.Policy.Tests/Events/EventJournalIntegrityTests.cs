using System.Text;
using Egress.Policy.Configuration;
using Egress.Policy.Events;
using Egress.TestUtils;

namespace Egress.Policy.Tests.Events;

/// <summary>The HMAC integrity mode: forged, altered and unsigned lines are rejected and numbered.</summary>
public sealed class EventJournalIntegrityTests : IDisposable
{
    private static readonly JournalIntegrity Key = JournalIntegrity.FromValue(new string('k', 40))!;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static EgressEvent Event(string host, string action = "DENY") => new() { Timestamp = 1, Action = action, Host = host, Port = 443, Reason = "r", Source = "proxy", Pid = 1 };

    private string Signed(params EgressEvent[] events)
    {
        var path = _dir.File("events.jsonl");
        using var journal = new EventJournal(path, Key);
        foreach (var e in events)
        {
            journal.Append(e);
        }

        return path;
    }

    private static (List<EgressEvent> Events, JournalReadResult Result) ReadAll(string path, JournalIntegrity? integrity)
    {
        var events = new List<EgressEvent>();
        var result = EventJournal.Read(path, events.Add, integrity);
        return (events, result);
    }

    [Fact]
    public void SignedJournal_VerifiesWithTheKey_AndStillReadsWithoutIt()
    {
        var path = Signed(Event("a.example", "ALLOW"), Event("evil.example"));

        var (events, result) = ReadAll(path, Key);
        Assert.Equal(["a.example", "evil.example"], events.Select(e => e.Host));
        Assert.True(result.IntegrityChecked);
        Assert.Equal(0, result.SkippedLines);

        Assert.Equal(2, ReadAll(path, null).Events.Count);
        Assert.All(File.ReadAllLines(path), l => Assert.Matches("^\\{\"ts\":.*,\"mac\":\"[0-9a-f]{64}\"\\}$", l));
    }

    [Fact]
    public void ForgedAllowLine_WithoutAMac_IsRejectedAndNumbered()
    {
        var path = Signed(Event("a.example", "ALLOW"));
        File.AppendAllText(path, Encoding.UTF8.GetString(EventJournal.Serialize(Event("forged.example", "ALLOW"))));

        var (events, result) = ReadAll(path, Key);

        Assert.Equal("a.example", Assert.Single(events).Host);
        Assert.Equal([2L], result.UnverifiedLineNumbers);
    }

    [Theory]
    [InlineData("\"host\":\"evil.example\"", "\"host\":\"good.example\"")]
    [InlineData("\"action\":\"DENY\"", "\"action\":\"ALLOW\"")]
    [InlineData("\"port\":443", "\"port\":444")]
    [InlineData("\"ts\":1,", "\"ts\":2,")]
    [InlineData("\"pid\":1,", "\"pid\":1 ,")]
    public void AlteredSignedLine_IsRejected(string from, string to)
    {
        var path = Signed(Event("evil.example"));
        var text = File.ReadAllText(path);
        Assert.Contains(from, text, StringComparison.Ordinal);
        File.WriteAllText(path, text.Replace(from, to, StringComparison.Ordinal));

        var (events, result) = ReadAll(path, Key);

        Assert.Empty(events);
        Assert.Equal([1L], result.UnverifiedLineNumbers);
    }

    [Fact]
    public void MacOfAnotherLine_DoesNotVerify()
    {
        var path = Signed(Event("a.example", "ALLOW"), Event("evil.example"));
        var lines = File.ReadAllLines(path);
        string mac(string l) => l[l.LastIndexOf(",\"mac\"", StringComparison.Ordinal)..];
        string body(string l) => l[..l.LastIndexOf(",\"mac\"", StringComparison.Ordinal)];
        File.WriteAllText(path, body(lines[1]).Replace("evil.example", "b.example", StringComparison.Ordinal).Replace("DENY", "ALLOW", StringComparison.Ordinal) + mac(lines[0]) + "\n");

        Assert.Equal(1, ReadAll(path, Key).Result.UnverifiedLines);
    }

    [Fact]
    public void WrongKey_RejectsEveryLine()
    {
        var path = Signed(Event("a.example", "ALLOW"), Event("evil.example"));

        var (events, result) = ReadAll(path, JournalIntegrity.FromValue(new string('x', 40)));

        Assert.Empty(events);
        Assert.Equal([1L, 2L], result.UnverifiedLineNumbers);
    }

    [Fact]
    public void GluedSignedRecord_IsRecoveredOnlyWhenItVerifies()
    {
        var path = Signed(Event("evil.example"));
        File.WriteAllText(path, "X" + File.ReadAllText(path) + "Y" + Encoding.UTF8.GetString(EventJournal.Serialize(Event("forged.example", "ALLOW"))));

        var (events, result) = ReadAll(path, Key);

        Assert.Equal("evil.example", Assert.Single(events).Host);
        Assert.Equal([1L, 2L], result.UnreadableLineNumbers);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void FromValue_Unset_IsNoIntegrityMode(string? value)
        => Assert.Null(JournalIntegrity.FromValue(value));

    [Fact]
    public void ShortKey_FailsClosed_TheWriterRefusesAndTheReaderVerifiesNothing()
    {
        var weak = JournalIntegrity.FromValue("short")!;
        Assert.Contains(EgressEnvironment.EventsKey, weak.Error, StringComparison.Ordinal);
        var path = _dir.File("events.jsonl");
        using (var journal = new EventJournal(path, weak))
        {
            Assert.Contains(EgressEnvironment.EventsKey, Assert.Throws<IOException>(() => journal.Append(Event("a.example"))).Message, StringComparison.Ordinal);
        }

        File.WriteAllText(path, Encoding.UTF8.GetString(EventJournal.Serialize(Event("a.example"))));
        var (events, result) = ReadAll(path, weak);
        Assert.Empty(events);
        Assert.Equal(weak.Error, result.IntegrityError);
    }

    [Fact]
    public void ToString_NeverShowsTheKey()
        => Assert.DoesNotContain("kkkk", Key.ToString(), StringComparison.Ordinal);
}

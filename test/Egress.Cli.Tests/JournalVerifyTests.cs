using System.Text;
using Egress.Policy.Events;
using Egress.TestUtils;

namespace Egress.Cli.Tests;

/// <summary>--verify and lock --from-events over a journal that was glued to, forged or replaced by a special file.</summary>
public sealed class JournalVerifyTests : IDisposable
{
    private const string Key = "0123456789abcdef0123456789abcdef-test-key";
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private string Journal => _cli.File("events.jsonl");

    private (string, string?)[] Env(bool ci, bool key = false) =>
    [
        ("CI", ci ? "1" : null), ("EGRESS_ALLOWLIST", "openai.com"), ("EGRESS_EVENTS_FILE", Journal),
        ("EGRESS_EVENTS_KEY", key ? Key : null), ("EGRESS_LOCK_FILE", _cli.File("policy_allowlist.lock")),
    ];

    private static EgressEvent Event(string host, string action) => new() { Timestamp = 1, Action = action, Host = host, Port = 443, Reason = "r", Source = "proxy" };

    private static string Unsigned(EgressEvent evt) => Encoding.UTF8.GetString(EventJournal.Serialize(evt));

    private void WriteSigned(params EgressEvent[] events)
    {
        using var journal = new EventJournal(Journal, JournalIntegrity.FromValue(Key));
        foreach (var e in events)
        {
            journal.Append(e);
        }
    }

    [Fact]
    public async Task Verify_InCi_ForeignBytesGluedBeforeADeny_FailsWithExit2NamingTheLine()
    {
        _cli.WriteLock("openai.com");
        File.WriteAllText(Journal, Unsigned(Event("api.openai.com", "ALLOW")) + "X" + Unsigned(Event("evil.example", "DENY")));

        var run = await _cli.RunAsync(Env(ci: true), "--verify");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("unreadable line(s)", run.Out + run.Error, StringComparison.Ordinal);
        Assert.Contains("line 2", run.Out + run.Error, StringComparison.Ordinal);
        Assert.Contains("evil.example", run.Out + run.Error, StringComparison.Ordinal); // the glued DENY was recovered and counted
    }

    [Fact]
    public async Task Verify_OutsideCi_AnUnreadableLine_IsAWarning()
    {
        _cli.WriteLock("openai.com");
        File.WriteAllText(Journal, "junk\n" + Unsigned(Event("api.openai.com", "ALLOW")));

        var run = await _cli.RunAsync(Env(ci: false), "--verify");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("line 1", run.Out + run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_InCiWithKey_AForgedLine_FailsWithExit2NamingTheLine()
    {
        _cli.WriteLock("openai.com");
        WriteSigned(Event("api.openai.com", "ALLOW"));
        File.AppendAllText(Journal, Unsigned(Event("forged.example", "ALLOW")));

        var run = await _cli.RunAsync(Env(ci: true, key: true), "--verify");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("do not verify against EGRESS_EVENTS_KEY", run.Out + run.Error, StringComparison.Ordinal);
        Assert.Contains("line 2", run.Out + run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_InCiWithKey_ASignedJournal_Passes()
    {
        _cli.WriteLock("openai.com");
        WriteSigned(Event("api.openai.com", "ALLOW"));

        var run = await _cli.RunAsync(Env(ci: true, key: true), "--verify");

        Assert.True(run.ExitCode == 0, run.Out + run.Error);
    }

    [Fact]
    public async Task Verify_WithATooShortKey_FailsEverywhere()
    {
        _cli.WriteLock("openai.com");
        var env = Env(ci: false).Append(("EGRESS_EVENTS_KEY", "short")).ToArray();

        var run = await _cli.RunAsync(env, "--verify");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("EGRESS_EVENTS_KEY is set but only 5 byte(s) long", run.Out + run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LockFromEvents_WithKey_DoesNotProposeAForgedAllow()
    {
        WriteSigned(Event("api.openai.com", "ALLOW"));
        File.AppendAllText(Journal, Unsigned(Event("forged.example", "ALLOW")));

        var run = await _cli.RunAsync(Env(ci: false, key: true), "lock", "--from-events", Journal);

        Assert.Equal(0, run.ExitCode);
        Assert.DoesNotContain("forged.example", run.Out, StringComparison.Ordinal);
        Assert.Contains("openai.com", run.Out, StringComparison.Ordinal);
        Assert.Contains("do not verify against EGRESS_EVENTS_KEY", run.Error, StringComparison.Ordinal);
        Assert.Contains("lines 2", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LockFromEvents_WithoutKey_StillLearnsEveryLine()
    {
        WriteSigned(Event("api.openai.com", "ALLOW"));
        File.AppendAllText(Journal, Unsigned(Event("other.example", "ALLOW")));

        var run = await _cli.RunAsync(Env(ci: false), "lock", "--from-events", Journal);

        Assert.Contains("other.example", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_AFifoJournal_FailsAtOnceWithExit2NamingThePath()
    {
        _cli.WriteLock("openai.com");
        SpecialFiles.MakeFifo(Journal);

        var task = _cli.RunAsync(Env(ci: false), "--verify");
        Assert.Same(task, await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(30))));
        var run = await task;

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(Journal, run.Out + run.Error, StringComparison.Ordinal);
        Assert.Contains("FIFO", run.Out + run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_WithAFifoJournal_StillDecides()
    {
        SpecialFiles.MakeFifo(Journal);

        var task = _cli.RunAsync(Env(ci: false), "check", "https://api.openai.com/");
        Assert.Same(task, await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(30))));
        var run = await task;

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("FIFO", run.Error, StringComparison.Ordinal);
    }
}

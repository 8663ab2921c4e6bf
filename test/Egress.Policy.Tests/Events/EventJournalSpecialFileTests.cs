using Egress.Policy.Configuration;
using Egress.Policy.Events;
using Egress.TestUtils;

namespace Egress.Policy.Tests.Events;

/// <summary>FIFOs, devices and links at <c>EGRESS_EVENTS_FILE</c>: an error naming the path, never a hang or a loss.</summary>
public sealed class EventJournalSpecialFileTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static EgressEvent Event(string host) => new() { Action = "DENY", Host = host, Port = 443, Reason = "r", Source = "test" };

    private string Fifo() => SpecialFiles.MakeFifo(_dir.File("fifo.jsonl"));

    private static async Task<Exception?> Within(Action action)
    {
        var task = Task.Run(action);
        var done = await Task.WhenAny(task, Task.Delay(Bound));
        Assert.True(done == task, "the call hung");
        return task.Exception?.InnerException;
    }

    [Fact]
    public async Task Append_ToAFifoWithoutReader_FailsAtOnceNamingThePath()
    {
        var path = Fifo();
        using var journal = new EventJournal(path);

        var error = await Within(() => journal.Append(Event("evil.example")));

        var io = Assert.IsType<IOException>(error);
        Assert.Contains(path, io.Message, StringComparison.Ordinal);
        Assert.Contains(EgressEnvironment.EventsFile, io.Message, StringComparison.Ordinal);
        Assert.Contains("FIFO", io.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_OfAFifo_FailsAtOnceNamingThePath()
    {
        var path = Fifo();

        var error = await Within(() => EventJournal.Read(path, _ => { }));

        Assert.Contains("FIFO", Assert.IsType<IOException>(error).Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_OfDevZero_FailsAtOnceInsteadOfSpinning()
    {
        var error = await Within(() => EventJournal.Read("/dev/zero", _ => { }));

        Assert.Contains("character device", Assert.IsType<IOException>(error).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Append_ThroughASymlinkToDevNull_IsRefusedInsteadOfLosingEvents()
    {
        var link = _dir.File("link.jsonl");
        File.CreateSymbolicLink(link, "/dev/null");
        using var journal = new EventJournal(link);

        var error = Assert.Throws<IOException>(() => journal.Append(Event("evil.example")));

        Assert.Contains("symbolic link", error.Message, StringComparison.Ordinal);
        Assert.Contains(link, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_ThroughASymlinkToARealJournal_IsRefused()
    {
        var real = _dir.File("real.jsonl");
        using (var journal = new EventJournal(real))
        {
            journal.Append(Event("evil.example"));
        }

        var link = _dir.File("link.jsonl");
        File.CreateSymbolicLink(link, real);

        Assert.Contains("symbolic link", Assert.Throws<IOException>(() => EventJournal.Read(link, _ => { })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_OfADirectory_IsAnErrorNamingIt()
        => Assert.Contains("directory", Assert.Throws<IOException>(() => EventJournal.Read(_dir.Path, _ => { })).Message, StringComparison.Ordinal);

    [Fact]
    public async Task Policy_WithAFifoJournal_KeepsDecidingAndCountsTheFailures()
    {
        var path = Fifo();
        var log = new StringWriter();
        using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = ["openai.com"], EventsFile = path, LogLevel = 1 }, log);

        await Within(() =>
        {
            for (int i = 0; i < 100; i++)
            {
                Assert.False(policy.Evaluate("https://evil.example/", "test").Allowed);
            }
        });

        Assert.Equal(100, policy.Events.JournalFailures);
        Assert.Contains("FIFO", log.ToString(), StringComparison.Ordinal);
    }
}

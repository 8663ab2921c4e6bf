using System.Text.Json;
using Egress.Policy.Configuration;
using Egress.Policy.Events;
using Egress.Policy.Summary;
using Egress.Policy.Verification;
using Egress.TestUtils;

namespace Egress.Policy.Tests.Summary;

public sealed class EgressSummaryTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static EgressSummary Sample()
    {
        var stats = new EventStatistics(2);
        foreach (var host in new[] { "b.example", "a.example", "b.example", "c.example", "b.example", "a.example" })
        {
            stats.Add(new EgressEvent { Action = "DENY", Host = host });
        }

        stats.Add(new EgressEvent { Action = "ALLOW", Host = "api.openai.com" });
        stats.Add(new EgressEvent { Action = "ALLOW", Host = "w.example", WouldDeny = true });
        var verification = new VerificationResult { Errors = [new VerificationFinding(5, VerificationCategory.Blocked, "blocked")], IsCi = true };
        var options = new EgressOptions { Allowlist = ["openai.com"], IsCi = true, CiFailOnBlocked = true };
        return EgressSummary.Create(options, stats, verification, new FixedTime(new DateTimeOffset(2026, 11, 24, 12, 0, 0, 5, TimeSpan.Zero)));
    }

    [Fact]
    public void UniqueBlockedHosts_TwoPortsOfOneHost_AreListedApart()
    {
        var stats = new EventStatistics(4);
        stats.Add(new EgressEvent { Action = "DENY", Host = "127.0.0.1", Port = 28461 });
        stats.Add(new EgressEvent { Action = "DENY", Host = "127.0.0.1", Port = 28462 });
        stats.Add(new EgressEvent { Action = "DENY", Host = "127.0.0.1", Port = 28462 });
        stats.Add(new EgressEvent { Action = "DENY", Host = "example.com", Port = 443 });
        var summary = EgressSummary.Create(new EgressOptions(), stats, new VerificationResult(), new FixedTime(DateTimeOffset.UnixEpoch));

        using var doc = JsonDocument.Parse(SummaryWriter.ToJson(summary));
        var hosts = doc.RootElement.GetProperty("unique_blocked_hosts").GetProperty("hosts").EnumerateArray()
            .Select(h => (h.GetProperty("host").GetString(), h.GetProperty("occurrences").GetInt64())).ToArray();

        Assert.Equal([("127.0.0.1:28462", 2L), ("127.0.0.1:28461", 1L), ("example.com", 1L)], hosts);
    }

    [Fact]
    public void ToJson_HasEveryFieldOfSpec6()
    {
        using var doc = JsonDocument.Parse(SummaryWriter.ToJson(Sample()));
        var root = doc.RootElement;

        Assert.Equal("2026-11-24T12:00:00.005Z", root.GetProperty("timestamp").GetString());
        var config = root.GetProperty("config");
        Assert.True(config.GetProperty("enforce").GetBoolean());
        Assert.Equal("openai.com", config.GetProperty("allowlist")[0].GetString());
        Assert.True(config.GetProperty("ci").GetBoolean());
        Assert.True(config.GetProperty("ci_fail_on_blocked").GetBoolean());
        var metrics = root.GetProperty("metrics");
        Assert.Equal(2, metrics.GetProperty("allowed_total").GetInt64());
        Assert.Equal(6, metrics.GetProperty("blocked_total").GetInt64());
        Assert.Equal(8, metrics.GetProperty("total").GetInt64());
        Assert.Equal(1, metrics.GetProperty("would_block_total").GetInt64());
        var recent = root.GetProperty("recent_events");
        Assert.Equal(2, recent.GetArrayLength());
        Assert.Equal("w.example", recent[1].GetProperty("host").GetString());
        Assert.Equal("ALLOW", recent[1].GetProperty("action").GetString());
        var blocked = root.GetProperty("unique_blocked_hosts");
        Assert.Equal(3, blocked.GetProperty("count").GetInt32());
        var hosts = blocked.GetProperty("hosts").EnumerateArray().Select(h => (h.GetProperty("host").GetString(), h.GetProperty("occurrences").GetInt64())).ToArray();
        Assert.Equal([("b.example", 3L), ("a.example", 2L), ("c.example", 1L)], hosts);
        var verification = root.GetProperty("verification");
        Assert.False(verification.GetProperty("passed").GetBoolean());
        Assert.Equal(4, verification.GetProperty("exit_code").GetInt32());
        Assert.Equal("blocked", verification.GetProperty("errors")[0].GetString());
    }

    [Fact]
    public void Write_ReplacesAnExistingFileWholeAndLeavesNoTemporaryFiles()
    {
        var path = _dir.File("egress-summary.json");
        File.WriteAllText(path, new string('x', 1_000_000));

        SummaryWriter.Write(path, Sample());

        var read = SummaryWriter.Read(path);
        Assert.NotNull(read);
        Assert.Equal(6, read!.Metrics.BlockedTotal);
        Assert.Equal([path], Directory.GetFiles(_dir.Path));
        Assert.EndsWith("}\n", File.ReadAllText(path), StringComparison.Ordinal);
    }

    [Fact]
    public void Write_CreatesMissingDirectories()
    {
        var path = Path.Combine(_dir.Path, "a", "b", "summary.json");
        SummaryWriter.Write(path, Sample());
        Assert.True(File.Exists(path));
    }

    [Fact]
    public async Task Write_ConcurrentWriters_ReaderAlwaysSeesAWholeFile()
    {
        var path = _dir.File("egress-summary.json");
        SummaryWriter.Write(path, Sample());
        var writers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 50; i++)
            {
                SummaryWriter.Write(path, Sample());
            }
        })).ToArray();
        int reads = 0;
        while (!writers.All(t => t.IsCompleted) || reads == 0)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path)); // throws on a half-written file
            reads++;
        }

        await Task.WhenAll(writers);
        Assert.Equal([path], Directory.GetFiles(_dir.Path));
    }
}

using System.Text.Json;
using Egress.Policy.Configuration;
using Egress.Policy.Events;

namespace Egress.Policy.Tests.Events;

public class EgressEventRecorderTests
{
    private static (EgressPolicy Policy, StringWriter Log) Create(EgressOptions options)
    {
        var log = new StringWriter();
        return (EgressPolicy.Create(options, log), log);
    }

    [Fact]
    public void Evaluate_CountsAllowedBlockedAndWouldBlock()
    {
        var (enforcing, _) = Create(new EgressOptions { Allowlist = ["openai.com"] });
        var (audit, _) = Create(new EgressOptions { Allowlist = ["openai.com"], Enforce = false });
        using (enforcing)
        using (audit)
        {
            foreach (var p in new[] { enforcing, audit })
            {
                p.Evaluate("https://api.openai.com/", "test");
                p.Evaluate("https://evil.example/", "test");
                p.Evaluate("http://bad host/", "test");
            }

            Assert.Equal((1, 2, 0), (enforcing.Events.AllowedTotal, enforcing.Events.BlockedTotal, enforcing.Events.WouldBlockTotal));
            Assert.Equal((3, 0, 2), (audit.Events.AllowedTotal, audit.Events.BlockedTotal, audit.Events.WouldBlockTotal));
        }
    }

    [Fact]
    public void RecentEvents_KeepsTheLastNOldestFirst()
    {
        var (policy, _) = Create(new EgressOptions { Allowlist = [], RecentEvents = 3 });
        using (policy)
        {
            for (int i = 0; i < 10; i++)
            {
                policy.Evaluate($"h{i}.example", "test");
            }

            Assert.Equal(["h7.example", "h8.example", "h9.example"], policy.Events.RecentEvents().Select(e => e.Host));
        }
    }

    [Fact]
    public void RecentEvents_ZeroCapacity_KeepsNothing()
    {
        var (policy, _) = Create(new EgressOptions { Allowlist = [], RecentEvents = 0 });
        using (policy)
        {
            policy.Evaluate("h.example", "test");
            Assert.Empty(policy.Events.RecentEvents());
            Assert.Equal(1, policy.Events.BlockedTotal);
        }
    }

    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(1, 1, 1)] // denials and would-be denials
    [InlineData(2, 3, 2)] // every decision
    public void Log_LevelSelectsWhatIsWritten(int level, int enforcingLines, int auditLines)
    {
        var (enforcing, log1) = Create(new EgressOptions { Allowlist = ["openai.com"], LogLevel = level });
        var (audit, log2) = Create(new EgressOptions { Allowlist = ["openai.com", "*"], LogLevel = level, Enforce = false });
        using (enforcing)
        using (audit)
        {
            enforcing.Evaluate("https://api.openai.com/", "test");
            enforcing.Evaluate("https://evil.example/", "test");
            enforcing.Evaluate("https://b.example/", "test");
            audit.Evaluate("https://api.openai.com/", "test");
            audit.Evaluate("https://evil.example/", "test");

            Assert.Equal(enforcingLines == 0 ? 0 : level == 2 ? 3 : 2, Lines(log1).Length);
            // The audit policy also warns once about the '*' token at level >= 1.
            Assert.Equal(auditLines + (level >= 1 ? 1 : 0), Lines(log2).Length);
        }

        static string[] Lines(StringWriter w) => w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public void Log_JsonFormat_HasTheRequiredFields()
    {
        var time = new FixedTime(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        var log = new StringWriter();
        using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = ["openai.com"], LogFormat = EgressLogFormat.Json }, log, time);

        policy.Evaluate("https://evil.example:8443/secret?token=abc", "http");

        using var doc = JsonDocument.Parse(log.ToString().Trim());
        var root = doc.RootElement;
        Assert.Equal(1_700_000_000_000, root.GetProperty("ts").GetInt64());
        Assert.Equal(Environment.ProcessId, root.GetProperty("pid").GetInt32());
        Assert.True(root.GetProperty("thread").GetInt32() > 0);
        Assert.Equal("DENY", root.GetProperty("action").GetString());
        Assert.Equal("evil.example", root.GetProperty("host").GetString());
        Assert.Equal(8443, root.GetProperty("port").GetInt32());
        Assert.False(root.GetProperty("allowed").GetBoolean());
        Assert.Equal("not in allowlist", root.GetProperty("reason").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("token").ValueKind);
        Assert.Equal("http", root.GetProperty("source").GetString());
        Assert.DoesNotContain("secret", log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Log_TextFormat_NamesActionHostPortTokenAndReason()
    {
        var (policy, log) = Create(new EgressOptions { Allowlist = ["openai.com"], LogLevel = 2 });
        using (policy)
        {
            policy.Evaluate("https://api.openai.com/v1?key=sk-123", "http");
            Assert.Equal("egress-policy: ALLOW api.openai.com:443 source=http token=openai.com reason=\"allowed by domain token 'openai.com'\"", log.ToString().Trim());
        }
    }

    [Theory]
    [InlineData("https://user:hunter2@exa mple.com/path?q=1")]
    [InlineData("http://admin:hunter2@[::1/")]
    [InlineData("hunter2:hunter2@bad..host")]
    public void Record_InvalidDestination_NeverRecordsCredentialsOrPaths(string input)
    {
        var (policy, log) = Create(new EgressOptions { Allowlist = [], LogFormat = EgressLogFormat.Json });
        using (policy)
        {
            var evt = policy.Events.Record(policy.Decide(input), "test", input);
            Assert.DoesNotContain("hunter2", evt.Host, StringComparison.Ordinal);
            Assert.DoesNotContain("hunter2", log.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("path", evt.Host, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Recorded_ObserverExceptions_AreSwallowed()
    {
        var (policy, _) = Create(new EgressOptions { Allowlist = [] });
        using (policy)
        {
            int seen = 0;
            policy.Events.Recorded += _ => throw new InvalidOperationException("boom");
            policy.Events.Recorded += _ => seen++;

            policy.Evaluate("x.example", "test");

            Assert.Equal(1, seen);
        }
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}

using Egress.Policy.Configuration;
using Egress.Policy.Events;
using Egress.Policy.Verification;
using Egress.TestUtils;

namespace Egress.Policy.Tests.Verification;

public sealed class PolicyVerifierTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private VerificationResult Verify(EgressOptions options, params EgressEvent[] events)
    {
        using var policy = EgressPolicy.Create(options, TextWriter.Null);
        var stats = PolicyVerifier.CollectEvents(policy);
        foreach (var e in events)
        {
            stats.Add(e);
        }

        return PolicyVerifier.Verify(policy, stats, _dir.Path);
    }

    private void Lock(params string[] tokens) => File.WriteAllText(_dir.File("policy_allowlist.lock"), string.Join('\n', tokens) + "\n");

    private static EgressOptions Ci(params string[] allowlist) => new() { IsCi = true, Allowlist = [.. allowlist] };

    private static EgressEvent Blocked(string host) => new() { Action = "DENY", Host = host, Reason = "not in allowlist" };

    [Fact]
    public void Verify_CleanPolicyInCi_Passes()
    {
        Lock("openai.com");
        var r = Verify(Ci("openai.com"));

        Assert.True(r.Passed, string.Join("; ", r.Errors));
        Assert.Equal(0, r.ExitCode);
        Assert.Empty(r.Warnings);
        Assert.Equal("Policy verification PASSED", r.Headline);
        Assert.Equal(_dir.File("policy_allowlist.lock"), r.LockFilePath);
    }

    [Fact]
    public void Rule1_EnforcementOffInCi_FailsWithValidation()
    {
        Lock("openai.com");
        var r = Verify(Ci("openai.com") with { Enforce = false });

        Assert.Equal(2, r.ExitCode);
        Assert.Equal("Policy verification FAILED:", r.Headline);
        var e = Assert.Single(r.Errors);
        Assert.Equal(1, e.Rule);
        Assert.Contains("EGRESS_ENFORCE=0", e.Message, StringComparison.Ordinal);
        Assert.Contains("EGRESS_CI_ALLOW_DISABLE", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rule1_EnforcementOffWithAllowDisable_Passes()
    {
        Lock("openai.com");
        Assert.True(Verify(Ci("openai.com") with { Enforce = false, CiAllowDisable = true }).Passed);
    }

    [Fact]
    public void Rule2_EmptyAllowlistInCi_FailsWithValidation()
    {
        Lock();
        var r = Verify(Ci());

        Assert.Equal(2, r.ExitCode);
        Assert.Contains(r.Errors, e => e.Rule == 2 && e.Message.Contains("empty", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("*")]
    [InlineData("all")]
    [InlineData("any")]
    [InlineData("*.openai.com")]
    public void Rule3_WildcardInCi_FailsNamingTheToken(string wildcard)
    {
        Lock("openai.com", wildcard);
        var r = Verify(Ci("openai.com", wildcard));

        Assert.Equal(2, r.ExitCode);
        var e = Assert.Single(r.Errors, x => x.Message.StartsWith("EGRESS_ALLOWLIST", StringComparison.Ordinal));
        Assert.Equal(3, e.Rule);
        Assert.Contains($"wildcard token '{wildcard}'", e.Message, StringComparison.Ordinal);
        Assert.Contains(r.Errors, x => x.Rule == 3 && x.Message.Contains($"line 2: wildcard token '{wildcard}'", StringComparison.Ordinal)); // the lock line too
    }

    [Fact]
    public void Rule3_UnparsableTokenInCi_Fails()
    {
        Lock("openai.com", "a..b");
        var r = Verify(Ci("openai.com", "a..b"));

        Assert.Equal(2, r.ExitCode);
        Assert.Contains(r.Errors, e => e.Rule == 3 && e.Message.Contains("a..b", StringComparison.Ordinal));
    }

    [Fact]
    public void Rule3_KeywordToken_WarnsAndSuggestsTheDomainForm()
    {
        Lock("openai");
        var r = Verify(Ci("openai"));

        Assert.True(r.Passed);
        var w = Assert.Single(r.Warnings);
        Assert.Contains("openai.attacker.example", w.Message, StringComparison.Ordinal);
        Assert.Contains("'openai.com'", w.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rule4_DriftBothDirections_IsAWarningByDefault()
    {
        Lock("openai.com", "github.com");
        var r = Verify(Ci("openai.com", "pypi.org"));

        Assert.True(r.Passed);
        var w = Assert.Single(r.Warnings, x => x.Category == VerificationCategory.Drift);
        Assert.Contains("not in lock file: pypi.org", w.Message, StringComparison.Ordinal);
        Assert.Contains("in lock file but not in EGRESS_ALLOWLIST: github.com", w.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "a.com", "b.com" }, new[] { "a.com" })] // added
    [InlineData(new[] { "a.com" }, new[] { "a.com", "b.com" })] // removed
    public void Rule4_DriftWithFailOnDriftInCi_Exits3(string[] allowlist, string[] locked)
    {
        Lock(locked);
        var r = Verify(Ci(allowlist) with { CiFailOnDrift = true });

        Assert.Equal(3, r.ExitCode);
        Assert.Equal(VerificationCategory.Drift, Assert.Single(r.Errors).Category);
    }

    [Fact]
    public void Rule4_LockIsCaseOrderCommentAndBlankInsensitive()
    {
        File.WriteAllText(_dir.File("policy_allowlist.lock"), "# header\n\n  GitHub.com  # code\r\nOPENAI.COM\n\n");
        var r = Verify(Ci("openai.com", "github.com") with { CiFailOnDrift = true });

        Assert.True(r.Passed, string.Join("; ", r.Errors));
    }

    [Fact]
    public void Rule4_NoLockFile_IsDriftFailingOnlyWithFailOnDrift()
    {
        var warn = Verify(Ci("openai.com"));
        var fail = Verify(Ci("openai.com") with { CiFailOnDrift = true });

        Assert.True(warn.Passed);
        Assert.Contains(warn.Warnings, w => w.Category == VerificationCategory.Drift && w.Message.Contains("no lock file", StringComparison.Ordinal));
        Assert.Equal(3, fail.ExitCode);
        Assert.Null(fail.LockFilePath);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Rule4_ExplicitLockFileMissing_IsAnErrorEvenOutsideCi(bool ci)
    {
        var r = Verify(new EgressOptions { IsCi = ci, Allowlist = ["openai.com"], LockFile = _dir.File("missing.lock") });

        Assert.False(r.Passed);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("missing.lock", Assert.Single(r.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rule5_BlockedEvents_WarnByDefaultAndFailWithFailOnBlocked()
    {
        Lock("openai.com");
        var events = new[] { Blocked("evil.example"), Blocked("evil.example"), Blocked("other.example") };

        var warn = Verify(Ci("openai.com"), events);
        var fail = Verify(Ci("openai.com") with { CiFailOnBlocked = true }, events);

        Assert.True(warn.Passed);
        Assert.Contains(warn.Warnings, w => w.Rule == 5);
        Assert.Equal(4, fail.ExitCode);
        var e = Assert.Single(fail.Errors);
        Assert.Contains("3 blocked egress event(s): evil.example (2), other.example (1)", e.Message, StringComparison.Ordinal);
        Assert.Equal([new HostCount("evil.example", 2), new HostCount("other.example", 1)], fail.BlockedHosts);
    }

    [Fact]
    public void Rule5_AuditModeWouldDenyEvents_AreNotBlocked()
    {
        Lock("openai.com");
        var r = Verify(Ci("openai.com") with { CiFailOnBlocked = true },
            new EgressEvent { Action = "ALLOW", Host = "evil.example", WouldDeny = true, Reason = "audit mode: would deny" });

        Assert.True(r.Passed);
    }

    [Fact]
    public void Verify_SeveralFailures_HighestCategoryWins()
    {
        Lock("a.com");
        var all = Verify(Ci("*", "b.com") with { Enforce = false, CiFailOnDrift = true, CiFailOnBlocked = true }, Blocked("x.example"));
        var validationAndDrift = Verify(Ci("*", "b.com") with { CiFailOnDrift = true });
        var validationAndBlocked = Verify(Ci("*", "a.com") with { CiFailOnBlocked = true }, Blocked("x.example"));

        Assert.Equal(4, all.ExitCode);
        Assert.Equal([1, 3, 4, 5], all.Errors.Select(e => e.Rule).Distinct().Order());
        Assert.Equal(3, validationAndDrift.ExitCode);
        Assert.Equal(4, validationAndBlocked.ExitCode);
    }

    [Fact]
    public void Verify_OutsideCi_RuleFailuresAreWarningsAndPass()
    {
        Lock("a.com");
        var r = Verify(new EgressOptions { Allowlist = ["*", "b.com"], Enforce = false, CiFailOnDrift = true, CiFailOnBlocked = true }, Blocked("x.example"));

        Assert.True(r.Passed);
        Assert.Equal(0, r.ExitCode);
        Assert.False(r.IsCi);
        Assert.Equal([1, 3, 4, 5], r.Warnings.Select(w => w.Rule).Distinct().Order());
    }

    [Fact]
    public void Verify_ConfigurationWarnings_AreReportedNamingTheVariable()
    {
        Lock("openai.com");
        var options = EgressOptionsReader.Read(TestEnvironment.Of(("CI", "true"), ("EGRESS_ALLOWLIST", "openai.com"), ("EGRESS_ENFORCE", "garbage")));
        var r = Verify(options);

        Assert.True(r.Passed);
        Assert.Contains(r.Warnings, w => w.Message.StartsWith("EGRESS_ENFORCE:", StringComparison.Ordinal));
    }

    [Fact]
    public void Verify_BlockedEventsFromJournalWrittenByOtherProcesses_Count()
    {
        Lock("openai.com");
        var journal = _dir.File("events.jsonl");
        File.WriteAllLines(journal,
        [
            """{"ts":1,"action":"DENY","host":"evil.example","port":443,"reason":"not in allowlist","token":null,"source":"proxy","pid":4242,"thread":1,"would_deny":false,"allowed":false}""",
            """{"ts":2,"action":"ALLOW","host":"api.openai.com","port":443,"reason":"ok","token":"openai.com","source":"http","pid":4243}""",
            "this line is torn {\"ts\":",
            """{"ts":3,"action":"DENY","host":"evil.example","port":80,"reason":"x","source":"proxy","pid":4244}""",
        ]);
        using var policy = EgressPolicy.Create(Ci("openai.com") with { CiFailOnBlocked = true, EventsFile = journal }, TextWriter.Null);

        var stats = PolicyVerifier.CollectEvents(policy);
        var r = PolicyVerifier.Verify(policy, stats, _dir.Path);

        Assert.Equal(4, r.ExitCode);
        Assert.Equal(2, stats.BlockedTotal);
        Assert.Equal(1, stats.AllowedTotal);
        Assert.Equal(1, stats.SkippedLines);
        Assert.Contains(r.Errors, w => w.Message.Contains("1 unreadable line(s)", StringComparison.Ordinal) && w.Message.Contains("line 3", StringComparison.Ordinal)); // an error in CI
        Assert.Equal(new HostCount("evil.example", 2), Assert.Single(r.BlockedHosts));
    }

    [Fact]
    public void Verify_JournalThatIsADirectory_IsAnErrorNotACrash()
    {
        Lock("openai.com");
        var journal = _dir.File("journal-dir");
        Directory.CreateDirectory(journal);
        using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = ["openai.com"], EventsFile = journal }, TextWriter.Null);

        var stats = PolicyVerifier.CollectEvents(policy);
        var r = PolicyVerifier.Verify(policy, stats, _dir.Path);

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("EGRESS_EVENTS_FILE", Assert.Single(r.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CollectEvents_WithoutJournal_UsesThisProcessCountersAndRing()
    {
        using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = ["openai.com"], RecentEvents = 2 }, TextWriter.Null);
        for (int i = 0; i < 5; i++)
        {
            policy.Evaluate($"https://evil{i}.example/", "test");
        }

        policy.Evaluate("https://api.openai.com/", "test");
        var stats = PolicyVerifier.CollectEvents(policy);

        Assert.Equal(5, stats.BlockedTotal);
        Assert.Equal(1, stats.AllowedTotal);
        Assert.Equal(2, stats.Recent.Count);
    }
}

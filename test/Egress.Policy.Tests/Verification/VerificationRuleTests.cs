using Egress.Policy.Configuration;
using Egress.Policy.Events;
using Egress.Policy.Verification;
using Egress.Policy.Verification.Rules;
using Egress.TestUtils;

namespace Egress.Policy.Tests.Verification;

/// <summary>
/// Each <c>--verify</c> rule on its own: it fails on the input it exists for and stays quiet on a clean one,
/// so that no rule can silently stop checking.
/// </summary>
public sealed class VerificationRuleTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static EgressOptions Ci(params string[] allowlist) => new() { IsCi = true, Allowlist = [.. allowlist] };

    private void Lock(params string[] lines) => File.WriteAllText(_dir.File("policy_allowlist.lock"), string.Join('\n', lines) + "\n");

    private VerificationContext Check(IVerificationRule rule, EgressOptions options, Action<EventStatistics>? events = null)
    {
        var policy = EgressPolicy.Create(options, TextWriter.Null);
        var stats = PolicyVerifier.CollectEvents(policy);
        events?.Invoke(stats);
        var context = new VerificationContext(policy, stats, _dir.Path);
        rule.Check(context);
        policy.Dispose();
        return context;
    }

    private static VerificationFinding SingleError(VerificationContext context)
    {
        Assert.Empty(context.Warnings);
        return Assert.Single(context.Errors);
    }

    [Fact]
    public void ConfigurationWarnings_ReportsEachReaderWarningAsRule0()
    {
        var options = Ci("openai.com") with { Warnings = [new ConfigurationWarning(EgressEnvironment.Log, "unrecognised value")] };

        var context = Check(new ConfigurationWarningsRule(), options);

        var w = Assert.Single(context.Warnings);
        Assert.Equal(0, w.Rule);
        Assert.Contains(EgressEnvironment.Log, w.Message, StringComparison.Ordinal);
        Assert.Empty(context.Errors);
        Assert.Empty(Check(new ConfigurationWarningsRule(), Ci("openai.com")).Warnings);
    }

    [Fact]
    public void Enforcement_OffInCi_Fails()
    {
        var e = SingleError(Check(new EnforcementRule(), Ci("openai.com") with { Enforce = false }));

        Assert.Equal((1, VerificationCategory.Validation), (e.Rule, e.Category));
        Assert.Equal("EGRESS_ENFORCE=0 disables enforcement; set EGRESS_CI_ALLOW_DISABLE=1 to permit audit mode in CI", e.Message);
        Assert.Empty(Check(new EnforcementRule(), Ci("openai.com")).Errors);
        Assert.Empty(Check(new EnforcementRule(), Ci("openai.com") with { Enforce = false, CiAllowDisable = true }).Errors);
    }

    [Fact]
    public void NonEmptyAllowlist_EmptyInCi_Fails()
    {
        var e = SingleError(Check(new NonEmptyAllowlistRule(), Ci()));

        Assert.Equal((2, VerificationCategory.Validation), (e.Rule, e.Category));
        Assert.Equal("EGRESS_ALLOWLIST is empty: every destination is denied", e.Message);
        Assert.Empty(Check(new NonEmptyAllowlistRule(), Ci("openai.com")).Errors);
    }

    [Fact]
    public void Token_WildcardInvalidAndLockLine_FailInOrder()
    {
        Lock("openai.com", "10.0.0.0/99");

        var context = Check(new TokenRule(), Ci("openai.com", "*", "bad host!"));

        Assert.All(context.Errors, e => Assert.Equal((3, VerificationCategory.Validation), (e.Rule, e.Category)));
        Assert.Equal(3, context.Errors.Count);
        Assert.Equal("EGRESS_ALLOWLIST contains wildcard token '*', which is prohibited", context.Errors[0].Message);
        Assert.StartsWith("EGRESS_ALLOWLIST: ", context.Errors[1].Message, StringComparison.Ordinal);
        Assert.Contains("line 2", context.Errors[2].Message, StringComparison.Ordinal);
        Assert.Empty(context.Warnings);
    }

    [Fact]
    public void Token_KeywordIsAWarningOnly()
    {
        Lock("openai");

        var context = Check(new TokenRule(), Ci("openai"));

        Assert.Empty(context.Errors);
        Assert.Equal(3, Assert.Single(context.Warnings).Rule);
    }

    [Fact]
    public void Token_CleanAllowlistAndLock_Pass()
    {
        Lock("openai.com");

        var context = Check(new TokenRule(), Ci("openai.com"));

        Assert.Empty(context.Errors);
        Assert.Empty(context.Warnings);
    }

    [Fact]
    public void LockFile_DriftWithFailOnDriftInCi_Fails()
    {
        Lock("openai.com");

        var e = SingleError(Check(new LockFileRule(), Ci("openai.com", "github.com") with { CiFailOnDrift = true }));

        Assert.Equal((4, VerificationCategory.Drift), (e.Rule, e.Category));
        Assert.Equal($"allowlist drift against {_dir.File("policy_allowlist.lock")} (not in lock file: github.com)", e.Message);
        Assert.Empty(Check(new LockFileRule(), Ci("openai.com") with { CiFailOnDrift = true }).Errors);
    }

    [Fact]
    public void LockFile_ExplicitButUnreadable_FailsEverywhereNamingTheFileOnce()
    {
        string dir = Directory.CreateDirectory(_dir.File("lock-dir")).FullName;

        var context = Check(new LockFileRule(), new EgressOptions { Allowlist = ["openai.com"], LockFile = dir });

        var e = SingleError(context);
        Assert.Equal((4, VerificationCategory.Validation), (e.Rule, e.Category));
        Assert.Equal($"cannot read lock file {dir}: it is a directory, not a regular file; point lock file at a regular file", e.Message);
    }

    [Fact]
    public void BlockedEvents_WithFailOnBlockedInCi_Fails()
    {
        void Blocked(EventStatistics s) => s.Add(new EgressEvent { Action = "DENY", Host = "evil.example", Reason = "not in allowlist" });

        var e = SingleError(Check(new BlockedEventsRule(), Ci("openai.com") with { CiFailOnBlocked = true }, Blocked));

        Assert.Equal((5, VerificationCategory.Blocked), (e.Rule, e.Category));
        Assert.Equal("1 blocked egress event(s): evil.example (1)", e.Message);
        Assert.Empty(Check(new BlockedEventsRule(), Ci("openai.com") with { CiFailOnBlocked = true }).Errors);
        Assert.Single(Check(new BlockedEventsRule(), Ci("openai.com"), Blocked).Warnings);
    }

    [Fact]
    public void Journal_Unreadable_FailsEverywhere()
    {
        string dir = Directory.CreateDirectory(_dir.File("journal-dir")).FullName;

        var e = SingleError(Check(new JournalRule(), new EgressOptions { Allowlist = ["openai.com"], EventsFile = dir }));

        Assert.Equal((5, VerificationCategory.Validation), (e.Rule, e.Category));
        Assert.Equal($"cannot read EGRESS_EVENTS_FILE {dir}: it is a directory, not a regular file", e.Message);
    }

    [Fact]
    public void Journal_GluedLineInCi_Fails()
    {
        string journal = _dir.File("events.jsonl");
        File.WriteAllText(journal, "garbage without a newline{\"action\":\"DENY\"\n");

        var e = SingleError(Check(new JournalRule(), Ci("openai.com") with { EventsFile = journal }));

        Assert.Equal((5, VerificationCategory.Validation), (e.Rule, e.Category));
        Assert.Contains("unreadable line(s)", e.Message, StringComparison.Ordinal);
        Assert.Empty(Check(new JournalRule(), Ci("openai.com")).Errors);
    }
}

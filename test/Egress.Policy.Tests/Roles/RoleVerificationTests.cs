using Egress.Policy.Configuration;
using Egress.Policy.Events;
using Egress.Policy.Verification;
using Egress.TestUtils;

namespace Egress.Policy.Tests.Roles;

/// <summary><c>--verify</c> on a lock file with roles: every line valid, the default section as the allowlist, each role's events inside its section.</summary>
public sealed class RoleVerificationTests : IDisposable
{
    private const string RoleLock = """
        github.com
        [role ci]
        match source 10.0.0.0/8
        pypi.org
        """;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ARoleLock_WithEventsInsideEachRole_Passes()
    {
        var r = Verify(RoleLock, Allowed("ci", "pypi.org"), Allowed("default", "github.com"));
        Assert.True(r.Passed, string.Join("; ", r.Errors));
    }

    [Fact]
    public void AnEventOfARole_ThroughATokenOutsideItsSection_IsDrift()
    {
        // github.com is in the default section, not in ci's: a ci client allowed through it means the gateway enforced another lock.
        var r = Verify(RoleLock, Allowed("ci", "github.com"));
        var e = Assert.Single(r.Errors);
        Assert.Equal(VerificationCategory.Drift, e.Category);
        Assert.Contains("role 'ci' was allowed through token(s) 'github.com'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EventsOfARoleTheLockDoesNotDefine_AreDrift()
    {
        var r = Verify(RoleLock, Allowed("gone", "pypi.org"));
        Assert.Contains(r.Errors, e => e.Message.Contains("role 'gone', which", StringComparison.Ordinal));
    }

    [Fact]
    public void ABadRoleLine_IsAValidationError_NamingFileAndLine()
    {
        var r = Verify("github.com\n[role ci]\nmatch source 10.0.0.1/8\n");
        Assert.Contains(r.Errors, e => e.Category == VerificationCategory.Validation && e.Message.Contains("policy_allowlist.lock line 3", StringComparison.Ordinal));
    }

    [Fact]
    public void TheAllowlist_IsComparedWithTheDefaultSection()
    {
        var r = Verify(RoleLock, allowlist: "github.com,pypi.org");
        Assert.Contains(r.Errors, e => e.Category == VerificationCategory.Drift && e.Message.Contains("not in lock file: pypi.org", StringComparison.Ordinal));
    }

    private VerificationResult Verify(string lockText, params EgressEvent[] events) => Verify(lockText, "github.com", events);

    private VerificationResult Verify(string lockText, string allowlist, params EgressEvent[] events)
    {
        File.WriteAllText(_dir.File("policy_allowlist.lock"), lockText);
        using var policy = EgressPolicy.Create(new EgressOptions { IsCi = true, CiFailOnDrift = true, Allowlist = [.. allowlist.Split(',')] }, TextWriter.Null);
        var stats = PolicyVerifier.CollectEvents(policy);
        foreach (var e in events)
        {
            stats.Add(e);
        }

        return PolicyVerifier.Verify(policy, stats, _dir.Path);
    }

    private static EgressEvent Allowed(string role, string token) => new() { Action = "ALLOW", Host = token, Token = token, Role = role, Source = "proxy", Reason = "allowed" };
}

using System.Collections.Immutable;
using Egress.Policy.Configuration;
using Egress.Policy.Events;
using Egress.Policy.Locking;

namespace Egress.Policy.Verification.Rules;

/// <summary>
/// What the rules of one verification read (the policy, the events, the lock file, read at most once) and
/// where they write their findings.
/// </summary>
internal sealed class VerificationContext
{
    private LockFileRead? _lock;

    public VerificationContext(EgressPolicy policy, EventStatistics events, string? workingDirectory)
    {
        Policy = policy;
        Events = events;
        WorkingDirectory = workingDirectory;
    }

    public EgressPolicy Policy { get; }

    public EgressOptions Options => Policy.Options;

    public EventStatistics Events { get; }

    public string? WorkingDirectory { get; }

    /// <summary>Whether CI rules apply (rule failures are errors, not warnings).</summary>
    public bool IsCi => Options.IsCi;

    public ImmutableArray<VerificationFinding>.Builder Errors { get; } = ImmutableArray.CreateBuilder<VerificationFinding>();

    public ImmutableArray<VerificationFinding>.Builder Warnings { get; } = ImmutableArray.CreateBuilder<VerificationFinding>();

    /// <summary>The lock file, discovered and read on first use.</summary>
    public LockFileRead Lock => _lock ??= LockFileRead.From(Options, WorkingDirectory);


    /// <summary>A rule failure: an error in CI, a warning elsewhere.</summary>
    public void Fail(int rule, VerificationCategory category, string message)
        => (IsCi ? Errors : Warnings).Add(new VerificationFinding(rule, category, message));

    /// <summary>A failure that is an error everywhere (the configuration cannot be trusted).</summary>
    public void Error(int rule, VerificationCategory category, string message)
        => Errors.Add(new VerificationFinding(rule, category, message));

    /// <summary>A finding that never changes the exit code.</summary>
    public void Warn(int rule, VerificationCategory category, string message)
        => Warnings.Add(new VerificationFinding(rule, category, message));

    /// <summary>A failure that is an error only when <paramref name="asError"/> (a CI switch such as <c>EGRESS_CI_FAIL_ON_DRIFT</c>).</summary>
    public void FailIf(bool asError, int rule, VerificationCategory category, string message)
        => (asError ? Errors : Warnings).Add(new VerificationFinding(rule, category, message));
}

using System.Collections.Immutable;
using Egress.Policy.Events;

namespace Egress.Policy.Verification;

/// <summary>The outcome of <see cref="PolicyVerifier.Verify"/>.</summary>
public sealed record VerificationResult
{
    /// <summary>Failures; empty when verification passed.</summary>
    public ImmutableArray<VerificationFinding> Errors { get; init; } = [];

    /// <summary>Warnings (never change the exit code).</summary>
    public ImmutableArray<VerificationFinding> Warnings { get; init; } = [];

    /// <summary>Blocked hosts seen (this process and the journal), most frequent first.</summary>
    public IReadOnlyList<HostCount> BlockedHosts { get; init; } = [];

    /// <summary>Lock file consulted, if any.</summary>
    public string? LockFilePath { get; init; }

    /// <summary>Whether verification ran under CI rules.</summary>
    public bool IsCi { get; init; }

    /// <summary>Whether verification passed.</summary>
    public bool Passed => Errors.IsEmpty;

    /// <summary>Process exit code: 0, or the highest failing category (4 &gt; 3 &gt; 2).</summary>
    public int ExitCode => Errors.IsEmpty ? 0 : Errors.Max(e => (int)e.Category);

    /// <summary>The first line printed: <c>Policy verification PASSED</c> or <c>Policy verification FAILED:</c>.</summary>
    public string Headline => Passed ? "Policy verification PASSED" : "Policy verification FAILED:";
}

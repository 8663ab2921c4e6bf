using Egress.Policy.Configuration;
using Egress.Policy.Locking;

namespace Egress.Policy.Verification.Rules;

/// <summary>
/// Rule 4: the allowlist equals the lock file. Drift (and a missing lock file) fails CI only with
/// <c>EGRESS_CI_FAIL_ON_DRIFT</c>; a configured lock file that cannot be read is an error everywhere.
/// </summary>
internal sealed class LockFileRule : IVerificationRule
{
    public void Check(VerificationContext context)
    {
        var options = context.Options;
        bool failOnDrift = context.IsCi && options.CiFailOnDrift;
        var lockFile = context.Lock;
        if (lockFile.Path is null)
        {
            context.FailIf(failOnDrift, 4, VerificationCategory.Drift,
                $"no lock file found (looked for ./{EgressDefaults.LockFileName} and ./{EgressDefaults.SeedLockFilePath}; set {EgressEnvironment.LockFile} or run 'egress-policy lock')");
            return;
        }

        if (lockFile.Content is not { } content)
        {
            // An explicitly configured lock file that cannot be read is a broken configuration.
            context.FailIf(lockFile.IsExplicit, 4, VerificationCategory.Validation, lockFile.ReadError ?? $"cannot read lock file {lockFile.Path}");
            return;
        }

        // For a gateway policy file with [role] sections, content holds its default section (RoleEventsRule checks the roles).
        var (added, removed) = LockFile.Diff(options.Allowlist, content.Tokens);
        if (added.IsEmpty && removed.IsEmpty)
        {
            return;
        }

        var parts = new List<string>(2);
        if (!added.IsEmpty)
        {
            parts.Add($"not in lock file: {string.Join(", ", added)}");
        }

        if (!removed.IsEmpty)
        {
            parts.Add($"in lock file but not in {EgressEnvironment.Allowlist}: {string.Join(", ", removed)}");
        }

        context.FailIf(failOnDrift, 4, VerificationCategory.Drift, $"allowlist drift against {lockFile.Path} ({string.Join("; ", parts)})");
    }
}

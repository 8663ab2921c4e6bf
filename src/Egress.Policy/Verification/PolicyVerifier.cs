using System.Collections.Immutable;
using Egress.Policy.Configuration;
using Egress.Policy.Events;
using Egress.Policy.Locking;
using Egress.Policy.Tokens;

namespace Egress.Policy.Verification;

/// <summary>
/// Applies the verification rules of SPEC §5. In CI failures are errors with category exit codes; outside
/// CI they are reported as warnings and verification passes unless the configuration cannot be read.
/// </summary>
public static class PolicyVerifier
{
    /// <summary>Verifies <paramref name="policy"/> against its lock file and the recorded events.</summary>
    /// <param name="policy">The policy (options and parsed tokens).</param>
    /// <param name="events">Events of this process and the journal.</param>
    /// <param name="workingDirectory">Where lock file discovery starts.</param>
    public static VerificationResult Verify(EgressPolicy policy, EventStatistics events, string? workingDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(events);
        var options = policy.Options;
        bool ci = options.IsCi;
        var errors = ImmutableArray.CreateBuilder<VerificationFinding>();
        var warnings = ImmutableArray.CreateBuilder<VerificationFinding>();

        // Rule failures are errors in CI, warnings elsewhere; unreadable configuration is an error everywhere.
        void Fail(int rule, VerificationCategory category, string message)
            => (ci ? errors : warnings).Add(new VerificationFinding(rule, category, message));

        foreach (var w in options.Warnings)
        {
            warnings.Add(new VerificationFinding(0, VerificationCategory.Validation, w.ToString()));
        }

        // Rule 1: enforcement on.
        if (!options.Enforce && !options.CiAllowDisable)
        {
            Fail(1, VerificationCategory.Validation, $"{EgressEnvironment.Enforce}=0 disables enforcement; set {EgressEnvironment.CiAllowDisable}=1 to permit audit mode in CI");
        }

        // Rule 2: non-empty allowlist.
        if (options.Allowlist.IsEmpty)
        {
            Fail(2, VerificationCategory.Validation, $"{EgressEnvironment.Allowlist} is empty: every destination is denied");
        }

        // Rule 3: no wildcards, every token parses.
        foreach (var error in policy.TokenErrors)
        {
            var message = EgressToken.IsWildcard(error.Token)
                ? $"{EgressEnvironment.Allowlist} contains wildcard token '{EgressOptionsReader.Printable(error.Token)}', which is prohibited"
                : $"{EgressEnvironment.Allowlist}: {error.Message}";
            Fail(3, VerificationCategory.Validation, message);
        }

        foreach (var token in policy.Matcher.Tokens.Where(t => t.Kind == EgressTokenKind.Keyword))
        {
            warnings.Add(new VerificationFinding(3, VerificationCategory.Validation,
                $"keyword token '{token.Text}' matches any host containing it, e.g. '{token.Text}.attacker.example'; prefer a domain token such as '{token.Text}.com' or an exact host '=api.{token.Text}.com'"));
        }

        // Rule 4: drift against the lock file.
        var (lockPath, isExplicit) = LockFile.Discover(options, workingDirectory);
        if (lockPath is null)
        {
            Drift($"no lock file found (looked for ./{EgressDefaults.LockFileName} and ./{EgressDefaults.SeedLockFilePath}; set {EgressEnvironment.LockFile} or run 'egress-policy lock')");
        }
        else
        {
            try
            {
                // A gateway policy file with [role] sections: each role's lock and events (Roles/RoleVerification).
                if (Roles.RoleVerification.TryRead(lockPath) is { } roleFile)
                {
                    Roles.RoleVerification.Verify(lockPath, roleFile, options.Allowlist, events, Fail, Drift);
                    goto LockChecked;
                }

                var (locked, problems) = LockFile.Load(lockPath);
                foreach (var problem in problems)
                {
                    Fail(3, VerificationCategory.Validation, problem.Describe(lockPath)); // every lock line is a token
                }

                var (added, removed) = LockFile.Diff(options.Allowlist, locked);
                if (!added.IsEmpty || !removed.IsEmpty)
                {
                    var parts = new List<string>();
                    if (!added.IsEmpty)
                    {
                        parts.Add($"not in lock file: {string.Join(", ", added)}");
                    }

                    if (!removed.IsEmpty)
                    {
                        parts.Add($"in lock file but not in {EgressEnvironment.Allowlist}: {string.Join(", ", removed)}");
                    }

                    Drift($"allowlist drift against {lockPath} ({string.Join("; ", parts)})");
                }

            LockChecked:;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // An explicitly configured lock file that cannot be read is a broken configuration.
                var finding = new VerificationFinding(4, VerificationCategory.Validation, $"cannot read lock file: {ex.Message}");
                (isExplicit ? errors : warnings).Add(finding);
            }
        }

        // Rule 5: blocked events.
        var blockedHosts = events.BlockedHosts;
        if (events.BlockedTotal > 0)
        {
            string hosts = string.Join(", ", blockedHosts.Take(10).Select(h => $"{h.Host} ({h.Occurrences})"));
            string message = $"{events.BlockedTotal} blocked egress event(s): {hosts}{(blockedHosts.Count > 10 ? ", …" : string.Empty)}";
            if (ci && options.CiFailOnBlocked)
            {
                errors.Add(new VerificationFinding(5, VerificationCategory.Blocked, message));
            }
            else
            {
                warnings.Add(new VerificationFinding(5, VerificationCategory.Blocked, message));
            }
        }

        if (events.JournalError is { } journalError)
        {
            errors.Add(new VerificationFinding(5, VerificationCategory.Validation, journalError));
        }

        // Unreadable, unverified (EGRESS_EVENTS_KEY) lines and an unusable key: errors in CI (see JournalFindings).
        JournalFindings.Add(events, ci, errors, warnings);

        return new VerificationResult
        {
            Errors = errors.ToImmutable(),
            Warnings = warnings.ToImmutable(),
            BlockedHosts = blockedHosts,
            LockFilePath = lockPath,
            IsCi = ci,
        };

        void Drift(string message)
        {
            if (ci && options.CiFailOnDrift)
            {
                errors.Add(new VerificationFinding(4, VerificationCategory.Drift, message));
            }
            else
            {
                warnings.Add(new VerificationFinding(4, VerificationCategory.Drift, message));
            }
        }
    }

    /// <summary>
    /// The events verification and summaries look at: the journal when one is configured (it already holds
    /// this process's events), else this process's recorder.
    /// </summary>
    public static EventStatistics CollectEvents(EgressPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var stats = new EventStatistics(policy.Options.RecentEvents);
        if (policy.Options.EventsFile is { } path)
        {
            try
            {
                if (Directory.Exists(path))
                {
                    throw new IOException($"{path} is a directory");
                }

                var result = EventJournal.Read(path, stats.Add, policy.Options.JournalIntegrity);
                stats.SkippedLines = result.SkippedLines;
                stats.Journal = result;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Blocked events could hide in an unreadable journal: verification must not pass on it.
                stats.JournalError = $"cannot read {EgressEnvironment.EventsFile} {path}: {ex.Message}";
            }
        }
        else
        {
            foreach (var evt in policy.Events.RecentEvents())
            {
                stats.Add(evt);
            }

            stats.SetTotals(policy.Events.AllowedTotal, policy.Events.BlockedTotal, policy.Events.WouldBlockTotal);
        }

        return stats;
    }
}

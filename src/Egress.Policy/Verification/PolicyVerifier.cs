using Egress.Policy.Configuration;
using Egress.Policy.Events;
using Egress.Policy.FileSystem;
using Egress.Policy.Verification.Rules;

namespace Egress.Policy.Verification;

/// <summary>
/// Applies the verification rules (one <see cref="IVerificationRule"/> each, under <c>Rules/</c>, run in a
/// fixed order). In CI failures are errors with category exit codes; outside CI they are reported as
/// warnings and verification passes unless the configuration cannot be read.
/// </summary>
public static class PolicyVerifier
{
    /// <summary>The rules, in the order their findings are reported.</summary>
    private static readonly IVerificationRule[] Rules =
    [
        new ConfigurationWarningsRule(),
        new EnforcementRule(),
        new NonEmptyAllowlistRule(),
        new TokenRule(),
        new LockFileRule(),
        new RoleEventsRule(),
        new BlockedEventsRule(),
        new JournalRule(),
    ];

    /// <summary>Verifies <paramref name="policy"/> against its lock file and the recorded events.</summary>
    /// <param name="policy">The policy (options and parsed tokens).</param>
    /// <param name="events">Events of this process and the journal.</param>
    /// <param name="workingDirectory">Where lock file discovery starts.</param>
    public static VerificationResult Verify(EgressPolicy policy, EventStatistics events, string? workingDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(events);
        var context = new VerificationContext(policy, events, workingDirectory);
        foreach (var rule in Rules)
        {
            rule.Check(context);
        }

        return new VerificationResult
        {
            Errors = context.Errors.ToImmutable(),
            Warnings = context.Warnings.ToImmutable(),
            BlockedHosts = events.BlockedHosts,
            LockFilePath = context.Lock.Path,
            IsCi = context.IsCi,
        };
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
                    throw new IOException("it is a directory, not a regular file");
                }

                var result = EventJournal.Read(path, stats.Add, policy.Options.JournalIntegrity);
                stats.SkippedLines = result.SkippedLines;
                stats.Journal = result;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Blocked events could hide in an unreadable journal: verification must not pass on it.
                stats.JournalError = FileErrors.Describe("read", EgressEnvironment.EventsFile, path, ex);
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

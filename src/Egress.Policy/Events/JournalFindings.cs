using System.Collections.Immutable;
using Egress.Policy.Configuration;
using Egress.Policy.Verification;

namespace Egress.Policy.Events;

/// <summary>
/// What a journal read means for verification: unreadable lines (blocked events could hide in them) and
/// lines that do not verify against <c>EGRESS_EVENTS_KEY</c> (forged or altered) fail CI with their line
/// numbers and are warnings elsewhere; a key that cannot be used fails everywhere.
/// </summary>
internal static class JournalFindings
{
    /// <summary>Adds the findings of <paramref name="events"/>' journal read.</summary>
    public static void Add(EventStatistics events, bool ci, ImmutableArray<VerificationFinding>.Builder errors, ImmutableArray<VerificationFinding>.Builder warnings)
    {
        var rule = ci ? errors : warnings;
        if (events.Journal is not { } journal)
        {
            if (events.SkippedLines > 0)
            {
                rule.Add(Finding($"{events.SkippedLines} unreadable line(s) in {EgressEnvironment.EventsFile} were skipped"));
            }

            return;
        }

        string file = journal.Path is null ? EgressEnvironment.EventsFile : $"{EgressEnvironment.EventsFile} {journal.Path}";
        if (journal.IntegrityError is { } keyError)
        {
            errors.Add(Finding($"cannot verify {file}: {keyError}"));
        }

        if (journal.UnreadableLines > 0)
        {
            string recovered = journal.RecoveredEvents > 0 ? $"; {journal.RecoveredEvents} record(s) inside them were recovered and counted" : string.Empty;
            rule.Add(Finding($"{journal.UnreadableLines} unreadable line(s) in {file} ({Lines(journal.UnreadableLineNumbers, journal.UnreadableLines)}): "
                + $"foreign bytes, a torn, truncated or over-long line, or an edited journal; blocked events could hide there{recovered}"));
        }

        if (journal.UnverifiedLines > 0)
        {
            rule.Add(Finding($"{journal.UnverifiedLines} line(s) in {file} do not verify against {EgressEnvironment.EventsKey} and were rejected ({Lines(journal.UnverifiedLineNumbers, journal.UnverifiedLines)}): "
                + "written or altered by a process without the key"));
        }
    }

    private static VerificationFinding Finding(string message) => new(5, VerificationCategory.Validation, message);

    private static string Lines(IReadOnlyList<long> numbers, long count)
        => (numbers.Count == 1 ? "line " : "lines ") + string.Join(", ", numbers) + (count > numbers.Count ? ", …" : string.Empty);
}

using System.Collections.Frozen;
using System.Text.Json;
using Egress.Policy.Destinations;
using Egress.Policy.Events;
using Egress.Policy.Summary;
using Egress.Policy.Tokens;

namespace Egress.Policy.Locking;

/// <summary>
/// Proposes an allowlist from what a run reached (an audit run's journal or summary): the smallest set of
/// tokens covering every allowed and would-be-denied host, each as narrow as that allows. Hosts under one
/// registrable domain share the longest common parent domain; never a bare TLD, public suffix or keyword;
/// IPs become IP tokens; hosts that needed a special-purpose address, single-label names and hosts that
/// are themselves suffixes become exact-host tokens. Denied events are not learned from.
/// </summary>
public static class PolicyLearner
{
    /// <summary>Hosting-platform suffixes treated as public suffixes (see <see cref="Domains.RegistrableDomain.SharedSuffixes"/>).</summary>
    public static FrozenSet<string> SharedSuffixes => Domains.RegistrableDomain.SharedSuffixes;

    /// <summary>Learns from events (ALLOW events, including audit-mode would-be denials).</summary>
    public static LearnedPolicy Learn(IEnumerable<EgressEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var hosts = new Dictionary<string, bool>(StringComparer.Ordinal); // host -> needs an exact/IP token
        var denied = new HashSet<string>(StringComparer.Ordinal);
        foreach (var evt in events)
        {
            if (evt.IsBlocked)
            {
                denied.Add(evt.Authority);
                continue;
            }

            // Fields, not reason text: a special-purpose address (its range recorded) needs an exact-host or IP token.
            bool exact = evt.Range is not null
                || evt.Outcome == EgressOutcome.SpecialPurposeAddress
                || (evt.Token?.StartsWith('=') ?? false);
            // Keyed by authority: a host reached on a non-default port is learned as host:port, not every port of it.
            hosts[evt.Authority] = hosts.GetValueOrDefault(evt.Authority) || exact;
        }

        denied.ExceptWith(hosts.Keys);
        return Learn(hosts, denied.Count);
    }

    /// <summary>
    /// Learns from a journal (<c>EGRESS_EVENTS_FILE</c>, JSON lines) or an <c>egress-summary.json</c>.
    /// </summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="InvalidDataException">The file is neither a journal nor a summary.</exception>
    public static LearnedPolicy LearnFromFile(string path) => LearnFromFile(path, null);

    /// <summary>
    /// Learns from a journal or summary; with <paramref name="integrity"/> (<c>EGRESS_EVENTS_KEY</c>) only journal
    /// lines whose MAC verifies are learned from (a forged ALLOW line never becomes a proposal), and a summary,
    /// which carries no MACs, is refused.
    /// </summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="InvalidDataException">The file is neither a journal nor a summary, or a summary under an integrity key.</exception>
    public static LearnedPolicy LearnFromFile(string path, Events.JournalIntegrity? integrity)
    {
        // A regular file, not a link, FIFO or device (which would hang or never end the read).
        using (var probe = FileSystem.RegularFile.OpenRead(path, "--from-events file"))
        {
            if (probe is null)
            {
                throw new FileNotFoundException($"no such file: {path}", path);
            }
        }

        if (!path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) && TryReadSummary(path) is { } summary)
        {
            if (integrity is not null)
            {
                throw new InvalidDataException($"{path} is an egress summary, which carries no MACs; with {Configuration.EgressEnvironment.EventsKey} set, learn from the journal");
            }

            var events = new List<EgressEvent>();
            foreach (var h in summary.UniqueAllowedHosts.Hosts)
            {
                events.Add(new EgressEvent { Action = "ALLOW", Host = h.Host });
            }

            foreach (var h in summary.UniqueWouldBlockHosts.Hosts)
            {
                // The reason of a would-be denial is only in the recent events; keep it when it is there.
                var recent = summary.RecentEvents.LastOrDefault(e => e.Authority == h.Host && e.WouldDeny);
                events.Add(recent ?? new EgressEvent { Action = "ALLOW", Host = h.Host, WouldDeny = true });
            }

            foreach (var h in summary.UniqueBlockedHosts.Hosts)
            {
                events.Add(new EgressEvent { Action = "DENY", Host = h.Host });
            }

            return Learn(events);
        }

        var journal = new List<EgressEvent>();
        var result = EventJournal.Read(path, journal.Add, integrity);
        if (result.IntegrityError is { } keyError)
        {
            throw new InvalidDataException($"cannot verify {path}: {keyError}");
        }

        if (journal.Count == 0 && result.UnreadableLines > 0)
        {
            throw new InvalidDataException($"{path} is neither an egress journal (JSON lines) nor an egress-summary.json");
        }

        return Learn(journal) with { Journal = result };
    }

    /// <summary>The registrable-looking domain of <paramref name="host"/> (see <see cref="Domains.RegistrableDomain.Of"/>).</summary>
    public static string? RegistrableDomain(string host) => Domains.RegistrableDomain.Of(host);

    private static LearnedPolicy Learn(Dictionary<string, bool> hosts, int deniedIgnored)
    {
        var tokens = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        var skipped = new List<string>();
        var groups = new Dictionary<string, List<string>>(StringComparer.Ordinal);

        void Add(string token, string host)
        {
            if (!EgressToken.TryParse(token, out _, out _))
            {
                skipped.Add(host);
                return;
            }

            if (!tokens.TryGetValue(token, out var covered))
            {
                tokens[token] = covered = new SortedSet<string>(StringComparer.Ordinal);
            }

            covered.Add(host);
        }

        foreach (var (raw, needsExact) in hosts)
        {
            // A host, or host:port when the traffic used a non-default port (EgressEvent.Authority): the port is kept.
            if (raw == EventStatistics.OtherHosts || raw.Contains('/', StringComparison.Ordinal)
                || !DestinationParser.TryParse(raw, out var destination, out _))
            {
                skipped.Add(raw);
                continue;
            }

            string host = destination.Host;
            string shown = EgressPolicy.Authority(host, destination.Port);
            string suffix = shown.Length > host.Length ? shown[host.Length..] : string.Empty;
            if (destination.Address is not null)
            {
                Add(suffix.Length == 0 ? host.Trim('[', ']') : host + suffix, shown);
            }
            else if (needsExact || RegistrableDomain(host) is not { } registrable)
            {
                Add("=" + host + suffix, shown);
            }
            else
            {
                if (!groups.TryGetValue(registrable + suffix, out var members))
                {
                    groups[registrable + suffix] = members = [];
                }

                members.Add(host);
            }
        }

        foreach (var (key, members) in groups)
        {
            int colon = key.IndexOf(':', StringComparison.Ordinal);
            string suffix = colon < 0 ? string.Empty : key[colon..];
            string common = CommonParent(members);
            foreach (var host in members)
            {
                Add(common + suffix, host + suffix);
            }
        }

        return new LearnedPolicy
        {
            Tokens = [.. tokens.Select(t => new LearnedToken(t.Key, [.. t.Value]))],
            Skipped = [.. skipped.Order(StringComparer.Ordinal)],
            DeniedHostsIgnored = deniedIgnored,
        };
    }

    /// <summary>The longest label-aligned suffix shared by all hosts (they share a registrable domain).</summary>
    private static string CommonParent(List<string> hosts)
    {
        var first = hosts[0].Split('.');
        int common = first.Length;
        foreach (var host in hosts.Skip(1))
        {
            var labels = host.Split('.');
            int n = 0;
            while (n < common && n < labels.Length && labels[^(n + 1)] == first[^(n + 1)])
            {
                n++;
            }

            common = n;
        }

        return string.Join('.', first[^common..]);
    }

    private static EgressSummary? TryReadSummary(string path)
    {
        try
        {
            var text = File.ReadAllText(path);
            if (!text.TrimStart().StartsWith('{') || !text.Contains("\"unique_allowed_hosts\"", StringComparison.Ordinal))
            {
                return null;
            }

            return JsonSerializer.Deserialize(text, EgressJsonContext.Default.EgressSummary);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>What <see cref="PolicyLearner"/> proposes.</summary>
public sealed record LearnedPolicy
{
    /// <summary>Proposed tokens (sorted) with the hosts each covers.</summary>
    public IReadOnlyList<LearnedToken> Tokens { get; init; } = [];

    /// <summary>Hosts that could not be turned into a token (e.g. not canonicalisable).</summary>
    public IReadOnlyList<string> Skipped { get; init; } = [];

    /// <summary>What the journal read found (unreadable and unverified lines), or <see langword="null"/> for a summary.</summary>
    public JournalReadResult? Journal { get; init; }

    /// <summary>Distinct hosts seen only in denied events (not learned: run in audit mode to learn them).</summary>
    public int DeniedHostsIgnored { get; init; }
}

/// <summary>A proposed token and the hosts it covers.</summary>
/// <param name="Token">The token.</param>
/// <param name="Hosts">Hosts that led to it.</param>
public sealed record LearnedToken(string Token, IReadOnlyList<string> Hosts);

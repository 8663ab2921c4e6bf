namespace Egress.Policy.Events;

/// <summary>
/// Aggregates events (from this process or a journal) into the numbers a summary and verification need,
/// in bounded memory: at most <see cref="MaxTrackedHosts"/> distinct blocked hosts are tracked by name.
/// Hosts are keyed by <see cref="EgressEvent.Authority"/>, so a non-default port is kept
/// (<c>127.0.0.1:28461</c> and <c>127.0.0.1:28462</c> are counted apart).
/// </summary>
public sealed class EventStatistics
{
    /// <summary>Distinct blocked hosts tracked by name; further ones are counted under <see cref="OtherHosts"/>.</summary>
    public const int MaxTrackedHosts = 10_000;

    /// <summary>Name under which blocked hosts beyond the cap are counted.</summary>
    public const string OtherHosts = "(other)";

    private readonly Dictionary<string, long> _blockedHosts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _wouldBlockHosts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _allowedHosts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _roleEvents = new(StringComparer.Ordinal);
    private readonly HashSet<(string Role, string Token)> _roleTokens = [];
    private readonly Queue<EgressEvent> _recent;
    private readonly int _recentCapacity;

    /// <summary>Creates an aggregate that keeps the last <paramref name="recentCapacity"/> events.</summary>
    public EventStatistics(int recentCapacity)
    {
        _recentCapacity = Math.Max(0, recentCapacity);
        _recent = new Queue<EgressEvent>(Math.Min(_recentCapacity, 1024));
    }

    /// <summary>ALLOW events (including audit-mode would-be denials).</summary>
    public long AllowedTotal { get; private set; }

    /// <summary>DENY events.</summary>
    public long BlockedTotal { get; private set; }

    /// <summary>Audit-mode events the policy would have denied.</summary>
    public long WouldBlockTotal { get; private set; }

    /// <summary>All events.</summary>
    public long Total => AllowedTotal + BlockedTotal;

    /// <summary>Journal lines that could not be read.</summary>
    public long SkippedLines { get; set; }

    /// <summary>What the journal read found (line numbers of unreadable and unverified lines), or <see langword="null"/> when none was read.</summary>
    public JournalReadResult? Journal { get; set; }

    /// <summary>Why the journal could not be read at all, or <see langword="null"/>; verification fails on it.</summary>
    public string? JournalError { get; set; }

    /// <summary>The most recent events, oldest first.</summary>
    public IReadOnlyCollection<EgressEvent> Recent => _recent;

    /// <summary>Blocked hosts with occurrences, most frequent first (ties by name).</summary>
    public IReadOnlyList<HostCount> BlockedHosts => Sorted(_blockedHosts);

    /// <summary>Hosts audit mode would have blocked, most frequent first.</summary>
    public IReadOnlyList<HostCount> WouldBlockHosts => Sorted(_wouldBlockHosts);

    /// <summary>Allowed hosts (excluding would-be denials), most frequent first.</summary>
    public IReadOnlyList<HostCount> AllowedHosts => Sorted(_allowedHosts);

    /// <summary>Gateway roles seen on events (<see cref="EgressEvent.Role"/>) and how many events each has; at most <see cref="MaxTrackedHosts"/> roles.</summary>
    public IReadOnlyDictionary<string, long> RoleEvents => _roleEvents;

    /// <summary>The (role, token) pairs of allowed events that carry a role, so <c>--verify</c> can check each role's events against its lock section; bounded.</summary>
    public IReadOnlyCollection<(string Role, string Token)> RoleTokens => _roleTokens;

    /// <summary>Adds one event.</summary>
    public void Add(EgressEvent evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        if (evt.Role is { } role && (_roleEvents.ContainsKey(role) || _roleEvents.Count < MaxTrackedHosts))
        {
            _roleEvents[role] = _roleEvents.GetValueOrDefault(role) + 1;
            if (!evt.IsBlocked && evt.Token is { } token && _roleTokens.Count < MaxTrackedHosts)
            {
                _roleTokens.Add((role, token));
            }
        }

        if (evt.IsBlocked)
        {
            BlockedTotal++;
            Count(_blockedHosts, evt.Authority);
        }
        else
        {
            AllowedTotal++;
            if (evt.WouldDeny)
            {
                WouldBlockTotal++;
                Count(_wouldBlockHosts, evt.Authority);
            }
            else
            {
                Count(_allowedHosts, evt.Authority);
            }
        }

        if (_recentCapacity > 0)
        {
            if (_recent.Count == _recentCapacity)
            {
                _recent.Dequeue();
            }

            _recent.Enqueue(evt);
        }
    }

    /// <summary>Uses exact process counters where only a bounded ring of events was available.</summary>
    internal void SetTotals(long allowed, long blocked, long wouldBlock)
    {
        AllowedTotal = allowed;
        BlockedTotal = blocked;
        WouldBlockTotal = wouldBlock;
    }

    private static void Count(Dictionary<string, long> map, string host)
    {
        if (map.TryGetValue(host, out long n))
        {
            map[host] = n + 1;
        }
        else if (map.Count < MaxTrackedHosts)
        {
            map[host] = 1;
        }
        else
        {
            map[OtherHosts] = map.GetValueOrDefault(OtherHosts) + 1;
        }
    }

    private static HostCount[] Sorted(Dictionary<string, long> map)
        => [.. map.Select(kv => new HostCount(kv.Key, kv.Value))
            .OrderByDescending(h => h.Occurrences)
            .ThenBy(h => h.Host, StringComparer.Ordinal)];
}

/// <summary>A host and how often it occurred.</summary>
/// <param name="Host">Canonical host, with <c>:port</c> when the port was not a web default (<see cref="EgressEvent.Authority"/>).</param>
/// <param name="Occurrences">Number of events.</param>
public sealed record HostCount(string Host, long Occurrences);

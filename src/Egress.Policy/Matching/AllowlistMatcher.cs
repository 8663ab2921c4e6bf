using System.Net;
using Egress.Policy.Destinations;
using Egress.Policy.Tokens;

namespace Egress.Policy.Matching;

/// <summary>
/// A compiled allowlist. Matching a canonical destination costs a few hash lookups (exact and domain
/// tokens, one per label suffix), one DFA pass (keywords) or a scan of the IP networks, and allocates nothing.
/// The most specific token wins: exact host, then the longest domain, then keywords.
/// </summary>
public sealed class AllowlistMatcher
{
    private readonly Dictionary<string, PortTable> _exact = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PortTable> _domains = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PortTable>.AlternateLookup<ReadOnlySpan<char>> _exactLookup;
    private readonly Dictionary<string, PortTable>.AlternateLookup<ReadOnlySpan<char>> _domainLookup;
    private readonly EgressToken[] _keywords;
    private readonly KeywordAutomaton? _automaton;
    private readonly EgressToken[] _networks;

    // _domainLengths[n]: some domain token is n characters long. A host suffix of another length cannot
    // match, so the walk skips its hash lookup.
    private readonly bool[] _domainLengths;

    /// <summary>Compiles <paramref name="tokens"/>.</summary>
    public AllowlistMatcher(IEnumerable<EgressToken> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var keywords = new List<EgressToken>();
        var networks = new List<EgressToken>();
        var all = new List<EgressToken>();
        foreach (var token in tokens)
        {
            all.Add(token);
            switch (token.Kind)
            {
                case EgressTokenKind.Keyword:
                    keywords.Add(token);
                    break;
                case EgressTokenKind.Domain:
                    Add(_domains, token);
                    break;
                case EgressTokenKind.ExactHost:
                    Add(_exact, token);
                    break;
                case EgressTokenKind.IPNetwork:
                    networks.Add(token);
                    break;
            }
        }

        Tokens = all;
        _keywords = [.. keywords];
        _networks = [.. networks];
        _automaton = keywords.Count == 0 ? null : new KeywordAutomaton(keywords.ConvertAll(k => k.Value));
        _domainLengths = new bool[_domains.Count == 0 ? 0 : _domains.Keys.Max(d => d.Length) + 1];
        foreach (var domain in _domains.Keys)
        {
            _domainLengths[domain.Length] = true;
        }

        _exactLookup = _exact.GetAlternateLookup<ReadOnlySpan<char>>();
        _domainLookup = _domains.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The tokens this matcher was compiled from, in order.</summary>
    public IReadOnlyList<EgressToken> Tokens { get; }

    /// <summary>Whether no token can match anything.</summary>
    public bool IsEmpty => Tokens.Count == 0;

    /// <summary>The most specific token matching the destination, or <see langword="null"/>.</summary>
    public EgressToken? Match(in Destination destination)
        => destination.Address is { } address
            ? MatchAddress(address, destination.Port)
            : MatchHost(destination.Host, destination.Port);

    /// <summary>The most specific token matching a canonical domain name on <paramref name="port"/> (0 = unknown).</summary>
    public EgressToken? MatchHost(ReadOnlySpan<char> host, int port)
    {
        if (_exact.Count > 0 && _exactLookup.TryGetValue(host, out var exact) && exact.Find(port) is { } e)
        {
            return e;
        }

        if (_domains.Count > 0)
        {
            // Walk label suffixes, longest first: api.openai.com, openai.com, com.
            var suffix = host;
            while (true)
            {
                if (suffix.Length < _domainLengths.Length && _domainLengths[suffix.Length]
                    && _domainLookup.TryGetValue(suffix, out var table) && table.Find(port) is { } d)
                {
                    return d;
                }

                int dot = suffix.IndexOf('.');
                if (dot < 0)
                {
                    break;
                }

                suffix = suffix[(dot + 1)..];
            }
        }

        if (_automaton is not null)
        {
            int k = _automaton.FindFirst(host);
            if (k >= 0 && (_keywords[k].Port == 0 || _keywords[k].Port == port))
            {
                return _keywords[k];
            }
        }

        return null;
    }

    /// <summary>The IP/CIDR token containing <paramref name="address"/> on <paramref name="port"/>, or <see langword="null"/>.</summary>
    public EgressToken? MatchAddress(IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        EgressToken? best = null;
        foreach (var token in _networks)
        {
            var network = token.Network!.Value;
            if ((token.Port == 0 || token.Port == port)
                && network.BaseAddress.AddressFamily == address.AddressFamily
                && network.Contains(address)
                && (best is null || network.PrefixLength > best.Network!.Value.PrefixLength))
            {
                best = token;
            }
        }

        return best;
    }

    /// <summary>
    /// Whether an IP/CIDR or exact-host token explicitly names this resolved address or host — the only
    /// way a special-purpose address (loopback, private, metadata…) may be reached.
    /// </summary>
    public EgressToken? MatchExplicit(string host, IPAddress address, int port)
    {
        if (MatchAddress(address, port) is { } network)
        {
            return network;
        }

        return _exact.Count > 0 && _exact.TryGetValue(host, out var table) ? table.Find(port) : null;
    }

    private static void Add(Dictionary<string, PortTable> map, EgressToken token)
    {
        if (!map.TryGetValue(token.Value, out var table))
        {
            table = new PortTable();
            map.Add(token.Value, table);
        }

        table.Add(token);
    }

    /// <summary>Tokens for one host: one for any port, plus port-specific ones.</summary>
    private sealed class PortTable
    {
        private EgressToken? _anyPort;
        private List<EgressToken>? _ports;

        public void Add(EgressToken token)
        {
            if (token.Port == 0)
            {
                _anyPort ??= token;
            }
            else
            {
                (_ports ??= []).Add(token);
            }
        }

        public EgressToken? Find(int port)
        {
            if (_ports is not null && port != 0)
            {
                foreach (var t in _ports)
                {
                    if (t.Port == port)
                    {
                        return t;
                    }
                }
            }

            return _anyPort;
        }
    }
}

using System.Net;
using Egress.Policy;
using Egress.Policy.Destinations;

namespace Egress.Isolation.Dns;

/// <summary>
/// Answers the isolated child's DNS queries from the policy alone: nothing is ever forwarded to a resolver, so
/// DNS cannot carry data out of the namespace. Each query's name is decided like a connection to it (source
/// <c>dns</c>, on any port some token names):
/// <list type="bullet">
/// <item>a denied name (any type, any class) gets NXDOMAIN and a DENY event;</item>
/// <item>an allowed name gets its synthetic address (<see cref="SyntheticAddressMap"/>) for A and AAAA, and
/// NOERROR without records (NODATA) for every other type — TXT, MX, SRV, HTTPS, ANY: the real records would need
/// a query to the outside that the child chose, so none is made; the real address is resolved outside by the
/// policy proxy when the child connects;</item>
/// <item>an allowed name's first answer records one ALLOW event (later queries of it record nothing, so a
/// lookup's A and AAAA pair does not count twice);</item>
/// <item>a class other than IN gets REFUSED; a malformed query FORMERR; another opcode NOTIMP; a response is
/// not answered.</item>
/// </list>
/// Thread-safe.
/// </summary>
public sealed class DnsResponder
{
    /// <summary>The event source of DNS decisions.</summary>
    public const string Source = "dns";

    private readonly EgressPolicy _policy;
    private readonly int[] _tokenPorts;
    private readonly EventBudget _budget;
    private readonly uint _ttl;
    private long _queries;
    private long _denied;
    private long _malformed;
    private long _exhausted;

    /// <summary>Creates a responder deciding with <paramref name="policy"/> and answering from <paramref name="map"/>.</summary>
    public DnsResponder(EgressPolicy policy, SyntheticAddressMap map, DnsResponderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(map);
        options ??= new DnsResponderOptions();
        _policy = policy;
        Map = map;
        _ttl = options.AnswerTtlSeconds;
        _budget = options.DenialBudget ?? new EventBudget();
        _tokenPorts = [.. policy.Matcher.Tokens.Where(t => t.Port != 0).Select(t => t.Port).Distinct().Order()];
    }

    /// <summary>The policy deciding the names.</summary>
    public EgressPolicy Policy => _policy;

    /// <summary>The names answered and their synthetic addresses (shared with the transparent path).</summary>
    public SyntheticAddressMap Map { get; }

    /// <summary>The buffer length <see cref="Respond"/> needs.</summary>
    public static int MaxResponseLength => DnsResponseWriter.MaxResponseLength;

    /// <summary>Queries answered.</summary>
    public long Queries => Interlocked.Read(ref _queries);

    /// <summary>Queries of denied names.</summary>
    public long Denied => Interlocked.Read(ref _denied);

    /// <summary>Messages answered FORMERR or NOTIMP, or ignored.</summary>
    public long Malformed => Interlocked.Read(ref _malformed);

    /// <summary>Allowed names refused because the synthetic address pool was full.</summary>
    public long Exhausted => Interlocked.Read(ref _exhausted);

    /// <summary>DENY events not recorded because a flood spent the budget (they are still counted in <see cref="Denied"/>).</summary>
    public long SuppressedEvents => _budget.Suppressed;

    /// <summary>Answers one message.</summary>
    /// <param name="message">A UDP datagram, or a TCP message without its length prefix.</param>
    /// <param name="response">At least <see cref="MaxResponseLength"/> octets.</param>
    /// <returns>The response length, or 0 when nothing is to be sent.</returns>
    public int Respond(ReadOnlySpan<byte> message, Span<byte> response)
    {
        if (response.Length < DnsResponseWriter.MaxResponseLength)
        {
            throw new ArgumentException($"the response buffer needs {DnsResponseWriter.MaxResponseLength} octets", nameof(response));
        }

        var status = DnsQueryReader.TryRead(message, out var query);
        if (status != DnsReadStatus.Query)
        {
            Interlocked.Increment(ref _malformed);
            return status switch
            {
                DnsReadStatus.FormatError => DnsResponseWriter.WriteHeaderOnly(response, query, DnsResponseCode.FormatError),
                DnsReadStatus.NotImplemented => DnsResponseWriter.WriteHeaderOnly(response, query, DnsResponseCode.NotImplemented),
                _ => 0,
            };
        }

        Interlocked.Increment(ref _queries);
        var decision = DecideName(query);
        if (!decision.Allowed)
        {
            Interlocked.Increment(ref _denied);
            if (_budget.TryTake())
            {
                Record(decision);
            }

            return DnsResponseWriter.Write(response, message, query, DnsResponseCode.NameError, null, _ttl);
        }

        if (query.Class != DnsRecordTypes.ClassInternet)
        {
            return DnsResponseWriter.Write(response, message, query, DnsResponseCode.Refused, null, _ttl);
        }

        if (query.Type is not (DnsRecordTypes.A or DnsRecordTypes.Aaaa))
        {
            return DnsResponseWriter.Write(response, message, query, DnsResponseCode.NoError, null, _ttl);
        }

        string name = decision.DestinationHost!;
        if (!Map.TryGetOrAdd(name, out var ipv4, out var ipv6, out bool added))
        {
            if (Interlocked.Increment(ref _exhausted) == 1)
            {
                _policy.Events.Log?.Warn($"egress-policy run: the synthetic DNS address pool is full ({Map.Capacity} names); '{name}' and further new names get SERVFAIL");
            }

            return DnsResponseWriter.Write(response, message, query, DnsResponseCode.ServerFailure, null, _ttl);
        }

        if (added)
        {
            Record(decision);
        }

        return DnsResponseWriter.Write(response, message, query, DnsResponseCode.NoError, query.Type == DnsRecordTypes.A ? ipv4 : ipv6, _ttl);
    }

    /// <summary>
    /// Decides the query's name: as a host on any port (a name some token allows only on port 443 is answered;
    /// the connection is decided with its real port later). Not a host name, or an IP literal: invalid.
    /// </summary>
    internal EgressDecision DecideName(in DnsQuery query)
    {
        if (!query.IsHostName)
        {
            return Invalid(query.Name.Length == 0 ? "." : query.Name, "a DNS query for a name that is not a host name");
        }

        if (!DestinationParser.TryParse(query.Name, out var destination, out var error))
        {
            return Invalid(query.Name, error ?? "unreadable");
        }

        if (destination.IsIPAddress)
        {
            return Invalid(query.Name, "a DNS query for an IP address literal");
        }

        var decision = _policy.Decide(destination);
        if (decision.Outcome != EgressOutcome.Allowed)
        {
            foreach (int port in _tokenPorts)
            {
                var onPort = _policy.Decide(destination with { Port = port });
                if (onPort.Outcome == EgressOutcome.Allowed)
                {
                    return onPort with { Port = 0 };
                }
            }
        }

        return decision;
    }

    private void Record(in EgressDecision decision) => _policy.Events.Record(decision, Source);

    private EgressDecision Invalid(string shown, string error)
    {
        bool enforce = _policy.Options.Enforce;
        string reason = "invalid destination: " + error;
        return new EgressDecision(!enforce, enforce ? reason : "audit mode: would deny (" + reason + ")", null, shown, 0, EgressOutcome.InvalidDestination, enforce);
    }
}

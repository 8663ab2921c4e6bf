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
    public const string Source = EgressSources.Dns;

    /// <summary>Why a reverse lookup of an address this run did not hand out is denied.</summary>
    public const string ReverseDenied = "a reverse DNS lookup (PTR) of an address this run did not hand out: reverse names are answered only for the synthetic addresses of allowed names, never looked up outside";

    private static readonly DecisionContext Context = new(Source);

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
        if (query.IsHostName && ReverseName.IsReverse(query.Name))
        {
            return RespondReverse(message, query, response);
        }

        var decided = DecideName(query);
        var decision = decided.Decision;
        if (!decision.Allowed)
        {
            Interlocked.Increment(ref _denied);
            if (_budget.TryTake())
            {
                decided.Record(_policy);
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

        string name = decision.DestinationHost ?? decided.Shown!; // an invalid name let through in audit mode
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
            decided.Record(_policy);
        }

        return DnsResponseWriter.Write(response, message, query, DnsResponseCode.NoError, query.Type == DnsRecordTypes.A ? ipv4 : ipv6, _ttl);
    }

    /// <summary>
    /// Decides the query's name through the policy's pipeline (<see cref="EgressPolicy.BeginConnection"/>, source
    /// <c>dns</c>): as a host on any port (a name some token allows only on port 443 is answered; the connection is
    /// decided with its real port later). Not a host name, or an IP literal: invalid. Records nothing; the caller
    /// records the result once (<see cref="DecidedName.Record"/>), timed.
    /// </summary>
    internal DecidedName DecideName(in DnsQuery query)
    {
        if (!query.IsHostName)
        {
            return DecidedName.Invalid(_policy, query.Name.Length == 0 ? "." : query.Name, "a DNS query for a name that is not a host name");
        }

        if (!DestinationParser.TryParse(query.Name, out var destination, out var error))
        {
            return DecidedName.Invalid(_policy, query.Name, error ?? "unreadable");
        }

        if (destination.IsIPAddress)
        {
            return DecidedName.Invalid(_policy, query.Name, "a DNS query for an IP address literal");
        }

        var connection = _policy.BeginConnection(destination, Context);
        if (connection.Host.Outcome != EgressOutcome.Allowed)
        {
            // The time recorded is that of the decision that answered: the port-0 one, or the token port that
            // allows the name (one more host decision per distinct token port, a few at most).
            foreach (int port in _tokenPorts)
            {
                var onPort = _policy.BeginConnection(destination with { Port = port }, Context);
                if (onPort.Host.Outcome == EgressOutcome.Allowed)
                {
                    return new DecidedName(onPort.Host with { Port = 0 }, onPort, null, null);
                }
            }
        }

        return new DecidedName(connection.Host, connection, null, null);
    }

    /// <summary>
    /// A reverse lookup (<c>in-addr.arpa</c>, <c>ip6.arpa</c>): a PTR query of a synthetic address this run handed
    /// out is answered with its name (nothing new is decided or recorded: the name's ALLOW was recorded when it
    /// was answered); any other reverse name is never looked up outside — it could carry data out like any
    /// other query — so it is denied (NXDOMAIN) and recorded as an invalid destination (audit mode: NODATA and a
    /// would-be denial).
    /// </summary>
    private int RespondReverse(ReadOnlySpan<byte> message, in DnsQuery query, Span<byte> response)
    {
        if (ReverseName.TryParse(query.Name, out var address) && Map.TryGetName(address!, out var name))
        {
            if (query.Class != DnsRecordTypes.ClassInternet)
            {
                return DnsResponseWriter.Write(response, message, query, DnsResponseCode.Refused, null, _ttl);
            }

            return query.Type == DnsRecordTypes.DomainPointer
                ? DnsResponseWriter.WritePointer(response, message, query, name, _ttl)
                : DnsResponseWriter.Write(response, message, query, DnsResponseCode.NoError, null, _ttl);
        }

        // Recorded with the whole reverse name as the host (it is a valid name; the raw-input path would cut it).
        var decided = DestinationParser.TryParse(query.Name, out var destination, out _) && !destination.IsIPAddress
            ? DecidedName.Denied(_policy.BeginConnection(destination, Context), _policy.DecideInvalid(ReverseDenied))
            : DecidedName.Invalid(_policy, query.Name, ReverseDenied);
        Interlocked.Increment(ref _denied);
        if (_budget.TryTake())
        {
            decided.Record(_policy);
        }

        return DnsResponseWriter.Write(response, message, query, decided.Decision.Allowed ? DnsResponseCode.NoError : DnsResponseCode.NameError, null, _ttl);
    }

    /// <summary>A decision on a query's name and how to record it once through the pipeline.</summary>
    internal readonly record struct DecidedName(EgressDecision Decision, ConnectionDecision? Connection, string? InvalidError, string? Shown)
    {
        /// <summary>The decision on a name that cannot be a destination (<paramref name="error"/> says why).</summary>
        public static DecidedName Invalid(EgressPolicy policy, string shown, string error) =>
            new(policy.DecideInvalid(error), null, error, shown);

        /// <summary>A name decided as <paramref name="denial"/> whatever the allowlist says, recorded through <paramref name="connection"/> under the name.</summary>
        public static DecidedName Denied(ConnectionDecision connection, EgressDecision denial) =>
            new(denial with { DestinationHost = connection.Destination.Host }, connection, null, null);

        /// <summary>Records the decision as one timed event (source <c>dns</c>).</summary>
        public void Record(EgressPolicy policy)
        {
            if (Connection is not null)
            {
                Connection.Record(Decision);
            }
            else
            {
                policy.EvaluateInvalid(InvalidError, Shown, Context);
            }
        }
    }
}

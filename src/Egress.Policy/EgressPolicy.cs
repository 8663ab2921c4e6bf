using System.Collections.Immutable;
using System.Diagnostics;
using System.Net;
using Egress.Policy.Configuration;
using Egress.Policy.Destinations;
using Egress.Policy.Events;
using Egress.Policy.Matching;
using Egress.Policy.Tokens;

namespace Egress.Policy;

/// <summary>
/// The policy of one process: configuration, the compiled allowlist and the event recorder. Decisions
/// are values and never throw; <c>Evaluate</c> also records the event. Invalid tokens are left out
/// (which only narrows the policy) and listed in <see cref="TokenErrors"/>.
/// </summary>
public sealed class EgressPolicy : IDisposable
{
    internal const string NotInAllowlist = "not in allowlist";
    internal const string AuditNotInAllowlist = "audit mode: would deny (not in allowlist)";

    private static readonly Lock SharedGate = new();
    private static EgressPolicy? s_shared;

    private readonly bool _ownsEvents;

    private EgressPolicy(EgressOptions options, EgressEventRecorder recorder, bool ownsEvents = true)
    {
        _ownsEvents = ownsEvents;
        Options = options;
        var tokens = AllowlistTokens.Parse(options.Allowlist, out var errors);
        Matcher = new AllowlistMatcher(tokens);
        TokenErrors = errors;
        Events = recorder;
    }

    // Tokens parsed already (a gateway policy file is checked line by line first): compiled without parsing them again.
    private EgressPolicy(EgressOptions options, EgressEventRecorder recorder, IReadOnlyList<EgressToken> tokens)
    {
        _ownsEvents = false;
        Options = options;
        Matcher = new AllowlistMatcher(tokens);
        TokenErrors = [];
        Events = recorder;
    }

    /// <summary>The configuration.</summary>
    public EgressOptions Options { get; }

    /// <summary>The compiled allowlist (valid tokens only).</summary>
    public AllowlistMatcher Matcher { get; }

    /// <summary>Tokens that were rejected and take no part in matching.</summary>
    public ImmutableArray<TokenError> TokenErrors { get; }

    /// <summary>Counters, ring, log and journal of this policy.</summary>
    public EgressEventRecorder Events { get; }

    /// <summary>
    /// The process-wide policy, read from the environment on first use. Every in-process enforcement point
    /// shares it so that counters and the ring see all decisions.
    /// </summary>
    public static EgressPolicy Shared
    {
        get
        {
            lock (SharedGate)
            {
                return s_shared ??= FromEnvironment();
            }
        }
    }

    /// <summary>Replaces the process-wide policy (tests and hosts that build options in code).</summary>
    public static void SetShared(EgressPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        lock (SharedGate)
        {
            s_shared = policy;
        }
    }

    /// <summary>Builds a policy from the process environment, logging to stderr.</summary>
    public static EgressPolicy FromEnvironment() => Create(EgressOptionsReader.FromEnvironment());

    /// <summary>Builds a policy from <paramref name="options"/>.</summary>
    /// <param name="options">Configuration.</param>
    /// <param name="log">Where log lines go (stderr when null).</param>
    /// <param name="time">Clock for event timestamps.</param>
    public static EgressPolicy Create(EgressOptions options, TextWriter? log = null, TimeProvider? time = null) =>
        Create(options, log, time, Telemetry.EgressMetrics.Shared, sinks: null);

    /// <summary>
    /// Builds a policy from <paramref name="options"/> whose events go to the standard sinks (ring, log, journal),
    /// then <paramref name="metrics"/>, then <paramref name="sinks"/>.
    /// </summary>
    /// <param name="options">Configuration.</param>
    /// <param name="log">Where log lines go (stderr when null).</param>
    /// <param name="time">Clock for event timestamps.</param>
    /// <param name="metrics">Instruments to count decisions on (one created through <c>IMeterFactory</c> under DI), or null for none.</param>
    /// <param name="sinks">Further sinks, or null.</param>
    public static EgressPolicy Create(EgressOptions options, TextWriter? log, TimeProvider? time, Telemetry.EgressMetrics? metrics, IEnumerable<EgressEventSink>? sinks)
    {
        ArgumentNullException.ThrowIfNull(options);
        var writer = new EventLogWriter(log ?? Console.Error, options.LogLevel, options.LogFormat) { LogDecisions = options.LogDecisions };
        var all = new List<EgressEventSink> { new RecentEventsRing(options.RecentEvents), writer };
        if (options.EventsFile is { } path)
        {
            all.Add(new JournalSink(new EventJournal(path, options.JournalIntegrity), writer, metrics));
        }

        if (metrics is not null)
        {
            all.Add(metrics);
        }

        all.AddRange(sinks ?? []);
        var policy = new EgressPolicy(options, new EgressEventRecorder(all, time));
        foreach (var warning in options.Warnings)
        {
            writer.Warn(warning.ToString());
        }

        foreach (var error in policy.TokenErrors)
        {
            writer.Warn($"{EgressEnvironment.Allowlist}: {error.Message}; {(error.Token.Contains(',', StringComparison.Ordinal) ? "these tokens are" : "the token is")} ignored");
        }

        return policy;
    }

    /// <summary>Decides a URL or <c>host[:port]</c> without recording an event.</summary>
    public EgressDecision Decide(string? destination)
    {
        if (!DestinationParser.TryParse(destination, out var parsed, out var error))
        {
            return DecideInvalid(error);
        }

        return Decide(parsed);
    }

    /// <summary>Decides a canonical destination without recording an event. Allocates nothing.</summary>
    public EgressDecision Decide(in Destination destination)
    {
        var token = Matcher.Match(destination);
        if (token is not null)
        {
            return new EgressDecision(true, token.AllowReason, token.Text, destination.Host, destination.Port, EgressOutcome.Allowed, Options.Enforce);
        }

        return Options.Enforce
            ? new EgressDecision(false, NotInAllowlist, null, destination.Host, destination.Port, EgressOutcome.NotInAllowlist, true)
            : new EgressDecision(true, AuditNotInAllowlist, null, destination.Host, destination.Port, EgressOutcome.NotInAllowlist, false);
    }

    /// <summary>
    /// The decision for a destination that could not be read (<paramref name="error"/> says why): denied, or in
    /// audit mode let through as a would-be denial. Does not record an event.
    /// </summary>
    public EgressDecision DecideInvalid(string? error) =>
        Deny(EgressOutcome.InvalidDestination, "invalid destination: " + (error ?? "unreadable"), null, 0);

    /// <summary>
    /// Decides a connection to <paramref name="resolved"/>, an address the destination's host resolved to.
    /// The host must be allowed, and a special-purpose address (loopback, private, link-local, CGNAT, cloud
    /// metadata, …) must be named by an IP/CIDR or exact-host token. The decision carries the address and its
    /// range. Does not record an event.
    /// </summary>
    public EgressDecision DecideAddress(in Destination destination, IPAddress resolved) =>
        DecideAddress(Decide(destination), destination, resolved);

    /// <summary>
    /// Decides <paramref name="destination"/>, the authority actually dialled, and <paramref name="name"/>, another
    /// name the traffic carries for it (an HTTP <c>Host</c> header, a TLS SNI name): denied if either is. The
    /// decision is the dialled one's unless the name is denied, in which case it names the name (the host to
    /// allow) and its reason says what was dialled. Does not record an event.
    /// </summary>
    /// <param name="destination">The authority dialled.</param>
    /// <param name="name">The other name (<c>host</c> or <c>host:port</c>), or <see langword="null"/> when there is none.</param>
    /// <param name="nameKind">What the name is, for the reason: <c>Host header</c>, <c>TLS SNI</c>.</param>
    public EgressDecision Decide(in Destination destination, string? name, string nameKind)
    {
        ArgumentNullException.ThrowIfNull(nameKind);
        var decision = Decide(destination);
        return name is null || decision.Outcome != EgressOutcome.Allowed ? decision : DecideName(decision, destination, name, nameKind);
    }

    /// <summary>
    /// Decides the dialled <paramref name="destination"/> and another <paramref name="name"/> the traffic carries
    /// (see <see cref="Decide(in Destination, string, string)"/>) and records one timed event.
    /// </summary>
    public EgressDecision Evaluate(in Destination destination, string? name, string nameKind, in DecisionContext context)
    {
        long started = Stopwatch.GetTimestamp();
        var decision = Decide(destination, name, nameKind);
        Events.Record(decision, context, name, Stopwatch.GetElapsedTime(started));
        return decision;
    }

    /// <summary>Records the denial (audit: would-be denial) of a destination that could not be read, as one timed event.</summary>
    /// <param name="error">Why it could not be read.</param>
    /// <param name="rawInput">What was asked (shown bounded, without credentials), or <see langword="null"/>.</param>
    /// <param name="context">Who asked.</param>
    public EgressDecision EvaluateInvalid(string? error, string? rawInput, in DecisionContext context)
    {
        long started = Stopwatch.GetTimestamp();
        var decision = DecideInvalid(error);
        Events.Record(decision, context, rawInput, Stopwatch.GetElapsedTime(started));
        return decision;
    }

    /// <summary>Decides <paramref name="destination"/> and records one timed event.</summary>
    /// <param name="destination">A URL or <c>host[:port]</c>.</param>
    /// <param name="context">Who asks: the source (a string converts) and the client where known.</param>
    public EgressDecision Evaluate(string? destination, in DecisionContext context)
    {
        long started = Stopwatch.GetTimestamp();
        var decision = Decide(destination);
        Events.Record(decision, context, destination, Stopwatch.GetElapsedTime(started));
        return decision;
    }

    /// <summary>Decides a canonical destination and records one timed event.</summary>
    public EgressDecision Evaluate(in Destination destination, in DecisionContext context)
    {
        long started = Stopwatch.GetTimestamp();
        var decision = Decide(destination);
        Events.Record(decision, context, null, Stopwatch.GetElapsedTime(started));
        return decision;
    }

    /// <summary>
    /// Decides a destination that is already known to be <paramref name="address"/> (a datagram, a redirected
    /// connection) and records one timed event carrying the address and its range.
    /// </summary>
    public EgressDecision Evaluate(in Destination destination, IPAddress address, in DecisionContext context)
    {
        ArgumentNullException.ThrowIfNull(address);
        long started = Stopwatch.GetTimestamp();
        var decision = DecideAddress(destination, address);
        Events.Record(decision, context, null, Stopwatch.GetElapsedTime(started));
        return decision;
    }

    /// <summary>
    /// Starts the decision of a connection: decides the host now (<see cref="ConnectionDecision.Host"/>); the
    /// caller then decides each resolved address with <see cref="ConnectionDecision.DecideAddress"/> and
    /// records exactly one event with <see cref="ConnectionDecision.Record(in EgressDecision)"/>.
    /// </summary>
    public ConnectionDecision BeginConnection(in Destination destination, in DecisionContext context) =>
        new(this, destination, context);

    /// <summary>
    /// Records a decision taken earlier without deciding again (a request that reuses a connection). Not
    /// timed: no decision was made. Prefer <see cref="Evaluate(string, in DecisionContext)"/>.
    /// </summary>
    public EgressEvent Record(in EgressDecision decision, in DecisionContext context) =>
        Events.Record(decision, context, null, null);

    internal EgressDecision DecideName(in EgressDecision dialled, in Destination destination, string name, string nameKind)
    {
        if (string.Equals(name, destination.Host, StringComparison.Ordinal))
        {
            // The name is the dialled host's canonical form already (the usual Host header): canonicalising is
            // idempotent, so parsing it again could only give the same host. Saves a parse on every guarded hop.
            return dialled;
        }

        if (!DestinationParser.TryParse(name, out var named, out var error))
        {
            return DecideInvalid($"{nameKind} '{Configuration.EgressOptionsReader.Printable(name[..Math.Min(name.Length, 256)])}': {error}");
        }

        if (string.Equals(named.Host, destination.Host, StringComparison.Ordinal))
        {
            return dialled;
        }

        var decision = Decide(new Destination(named.Host, destination.Port, named.Address));
        if (decision.Outcome == EgressOutcome.Allowed)
        {
            return dialled;
        }

        string reason = $"{nameKind} names {named.Host} on a connection to {destination}: {NotInAllowlist}";
        return Deny(decision.Outcome, reason, named.Host, destination.Port);
    }

    internal EgressDecision DecideAddress(in EgressDecision hostDecision, in Destination destination, IPAddress resolved)
    {
        ArgumentNullException.ThrowIfNull(resolved);
        if (resolved.IsIPv4MappedToIPv6)
        {
            resolved = resolved.MapToIPv4();
        }

        bool special = SpecialPurposeAddresses.IsSpecialPurpose(resolved, out var range);
        if (!special)
        {
            return hostDecision with { Address = resolved };
        }

        if (hostDecision.Outcome == EgressOutcome.InvalidDestination)
        {
            return hostDecision;
        }

        string shown = HostCanonicalizer.FormatAddress(resolved);
        if (hostDecision.Outcome == EgressOutcome.NotInAllowlist)
        {
            // Denied (or would be) already; in audit mode say that the address, too, would need an explicit token.
            return hostDecision.WouldDeny
                ? hostDecision with { Address = resolved, AddressRange = range, Reason = $"audit mode: would deny ({NotInAllowlist}; {destination.Host} resolved to {shown}, a {range} address)" }
                : hostDecision with { Address = resolved, AddressRange = range };
        }

        if (Matcher.MatchExplicit(destination.Host, resolved, destination.Port) is not null)
        {
            return hostDecision with { Address = resolved, AddressRange = range };
        }

        string reason = $"{destination.Host} resolved to {shown}, a {range} address; only an IP/CIDR or exact-host token (e.g. '={destination.Host}' or '{shown.Trim('[', ']')}') may allow it";
        return Deny(EgressOutcome.SpecialPurposeAddress, reason, destination.Host, destination.Port) with { Address = resolved, AddressRange = range };
    }

    /// <summary>
    /// <paramref name="host"/>, with <c>:port</c> when <paramref name="port"/> is not a web default (0, 80, 443).
    /// </summary>
    public static string Authority(string host, int port) =>
        port is 0 or 80 or 443 || string.IsNullOrEmpty(host) ? host : $"{host}:{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>
    /// Suggests the token that would allow <paramref name="host"/> on <paramref name="port"/>: as
    /// <see cref="SuggestToken(string)"/>, limited to the port when it is not a web default
    /// (<c>127.0.0.1:28462</c>, not every port of that host).
    /// </summary>
    public static string SuggestToken(string host, int port)
    {
        string token = SuggestToken(host);
        if (port is 0 or 80 or 443)
        {
            return token;
        }

        return (token.Contains(':', StringComparison.Ordinal) ? "[" + token + "]" : token) + ":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Suggests the token that would allow <paramref name="host"/>: its registrable-looking domain, or the IP.</summary>
    public static string SuggestToken(string host)
    {
        if (host.StartsWith('[') || (host.Length > 0 && char.IsAsciiDigit(host[^1])))
        {
            return host.Trim('[', ']');
        }

        // The learner's routine, so a suggestion never spans tenants of a shared suffix (a.github.io, not github.io).
        return Domains.RegistrableDomain.Of(host) ?? "=" + host;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsEvents)
        {
            Events.Dispose();
        }
    }

    /// <summary>
    /// The same configuration and event recorder (counters, ring, journal and metrics carry on) with another
    /// allowlist: what a gateway reload swaps in. Disposing the result leaves the recorder to this policy.
    /// </summary>
    public EgressPolicy WithAllowlist(ImmutableArray<string> allowlist) => new(Options with { Allowlist = allowlist }, Events, ownsEvents: false);

    /// <summary>
    /// As <see cref="WithAllowlist"/>, from tokens that were parsed already (a gateway policy file, a role's
    /// allowlist): they are compiled without being parsed a second time.
    /// </summary>
    public EgressPolicy WithTokens(IReadOnlyList<EgressToken> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        return new(Options with { Allowlist = [.. tokens.Select(t => t.Text)] }, Events, tokens);
    }

    /// <summary>The one place a non-allowed decision is built: denied, or in audit mode let through as a would-be denial.</summary>
    private EgressDecision Deny(EgressOutcome outcome, string reason, string? host, int port) => Options.Enforce
        ? new EgressDecision(false, reason, null, host, port, outcome, true)
        : new EgressDecision(true, "audit mode: would deny (" + reason + ")", null, host, port, outcome, false);
}

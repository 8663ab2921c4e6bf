using System.Collections.Immutable;
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

    private EgressPolicy(EgressOptions options, EgressEventRecorder recorder)
    {
        Options = options;
        var tokens = new List<EgressToken>();
        var errors = ImmutableArray.CreateBuilder<TokenError>();
        foreach (var text in options.Allowlist)
        {
            if (EgressToken.TryParse(text, out var token, out var error))
            {
                tokens.Add(token!);
            }
            else
            {
                errors.Add(new TokenError(text, error!));
            }
        }

        Matcher = new AllowlistMatcher(tokens);
        TokenErrors = errors.ToImmutable();
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
    public static EgressPolicy Create(EgressOptions options, TextWriter? log = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var writer = new EventLogWriter(log ?? Console.Error, options.LogLevel, options.LogFormat);
        var journal = options.EventsFile is { } path ? new EventJournal(path, options.JournalIntegrity) : null;
        var policy = new EgressPolicy(options, new EgressEventRecorder(options.RecentEvents, writer, journal, time));
        foreach (var warning in options.Warnings)
        {
            writer.Warn(warning.ToString());
        }

        foreach (var error in policy.TokenErrors)
        {
            writer.Warn($"{EgressEnvironment.Allowlist}: {error.Message}; the token is ignored");
        }

        return policy;
    }

    /// <summary>Decides a URL or <c>host[:port]</c> without recording an event.</summary>
    public EgressDecision Decide(string? destination)
    {
        if (!DestinationParser.TryParse(destination, out var parsed, out var error))
        {
            return Invalid(error!);
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
    /// Decides a connection to <paramref name="resolved"/>, an address the destination's host resolved to.
    /// The host must be allowed, and a special-purpose address (loopback, private, link-local, CGNAT, cloud
    /// metadata, …) must be named by an IP/CIDR or exact-host token. Does not record an event.
    /// </summary>
    public EgressDecision DecideAddress(in Destination destination, IPAddress resolved)
    {
        ArgumentNullException.ThrowIfNull(resolved);
        var hostDecision = Decide(destination);
        if (hostDecision.Outcome != EgressOutcome.Allowed)
        {
            return hostDecision;
        }

        if (!SpecialPurposeAddresses.IsSpecialPurpose(resolved, out var range)
            || Matcher.MatchExplicit(destination.Host, resolved, destination.Port) is not null)
        {
            return hostDecision;
        }

        string shown = HostCanonicalizer.FormatAddress(resolved);
        string reason = $"{destination.Host} resolved to {shown}, a {range} address; only an IP/CIDR or exact-host token (e.g. '={destination.Host}' or '{shown.Trim('[', ']')}') may allow it";
        return Options.Enforce
            ? new EgressDecision(false, reason, null, destination.Host, destination.Port, EgressOutcome.SpecialPurposeAddress, true)
            : new EgressDecision(true, "audit mode: would deny (" + reason + ")", null, destination.Host, destination.Port, EgressOutcome.SpecialPurposeAddress, false);
    }

    /// <summary>Decides <paramref name="destination"/> and records the event.</summary>
    public EgressDecision Evaluate(string? destination, string source)
    {
        long started = Events.Metrics?.StartTimestamp() ?? 0;
        var decision = Decide(destination);
        Events.Metrics?.RecordDuration(started, decision, source);
        Events.Record(decision, source, destination);
        return decision;
    }

    /// <summary>Decides a canonical destination and records the event.</summary>
    public EgressDecision Evaluate(in Destination destination, string source)
    {
        long started = Events.Metrics?.StartTimestamp() ?? 0;
        var decision = Decide(destination);
        Events.Metrics?.RecordDuration(started, decision, source);
        Events.Record(decision, source);
        return decision;
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
    public void Dispose() => Events.Dispose();

    private EgressDecision Invalid(string error)
    {
        string reason = "invalid destination: " + error;
        return Options.Enforce
            ? new EgressDecision(false, reason, null, null, 0, EgressOutcome.InvalidDestination, true)
            : new EgressDecision(true, "audit mode: would deny (" + reason + ")", null, null, 0, EgressOutcome.InvalidDestination, false);
    }
}

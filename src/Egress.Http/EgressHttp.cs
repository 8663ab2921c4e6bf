using Egress.Policy;
using Egress.Policy.Destinations;

namespace Egress.Http;

/// <summary>Shared helpers of the enforcement points: event source, recording and refusal.</summary>
internal static class EgressHttp
{
    /// <summary>The event source of every enforcement in this assembly.</summary>
    public const string Source = "http";

    /// <summary>Key under which a request remembers the URI whose decision is already recorded.</summary>
    public static readonly HttpRequestOptionsKey<Uri> RecordedKey = new("Egress.Http.Recorded");

    /// <summary>Records <paramref name="decision"/> and returns the exception to throw when it denies.</summary>
    public static EgressDeniedException? Enforce(EgressPolicy policy, in EgressDecision decision, string? rawInput = null)
    {
        policy.Events.Record(decision, Source, rawInput);
        return decision.Allowed ? null : new EgressDeniedException(decision, policy.Options.LockFile);
    }

    /// <summary>Parses the authority of <paramref name="uri"/> (host and port only; path and query never read).</summary>
    public static bool TryParse(Uri? uri, out Destination destination, out string? error)
    {
        if (uri is null || !uri.IsAbsoluteUri)
        {
            destination = default;
            error = "request has no absolute URI";
            return false;
        }

        // Scheme and authority only: userinfo, path and query never reach the policy, the log or the journal.
        return TryParse(uri.Scheme, uri.Host, uri.Port, out destination, out error);
    }

    /// <summary>
    /// Parses <c>scheme://host:port</c> built on the stack. The last result is kept: the
    /// destination is a pure function of the three inputs, and a client mostly talks to the same host.
    /// </summary>
    public static bool TryParse(string scheme, string host, int port, out Destination destination, out string? error)
    {
        var cached = s_last;
        if (cached is not null && cached.Port == port
            && string.Equals(cached.Host, host, StringComparison.Ordinal)
            && string.Equals(cached.Scheme, scheme, StringComparison.Ordinal))
        {
            destination = cached.Destination;
            error = null;
            return true;
        }

        if (!TryParseUncached(scheme, host, port, out destination, out error))
        {
            return false;
        }

        s_last = new LastParsed(scheme, host, port, destination);
        return true;
    }

    private static bool TryParseUncached(string scheme, string host, int port, out Destination destination, out string? error)
    {
        int length = scheme.Length + host.Length + 20;
        if (length > 512)
        {
            return DestinationParser.TryParse($"{scheme}://{host}:{port}", out destination, out error);
        }

        Span<char> buffer = stackalloc char[length];
        bool bracket = host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[');
        if (!buffer.TryWrite($"{scheme}://{(bracket ? "[" : "")}{host}{(bracket ? "]" : "")}:{port}", out int written))
        {
            destination = default;
            error = "destination is too long";
            return false;
        }

        return DestinationParser.TryParse(buffer[..written], out destination, out error);
    }

    // One entry shared by all threads (requests hop threads); the record is immutable, so a torn read is impossible.
    private static volatile LastParsed? s_last;

    private sealed record LastParsed(string Scheme, string Host, int Port, Destination Destination);

    /// <summary>
    /// Records and returns the refusal when <paramref name="request"/> carries a Host header naming another host
    /// than <paramref name="target"/> that the policy does not allow: SocketsHttpHandler sends that name as the
    /// Host and, over TLS, as the SNI name, so the allowed address would serve the denied virtual host.
    /// Null when there is no such header, or it names the same host, or the policy allows it (no extra event).
    /// </summary>
    public static EgressDeniedException? EnforceHostHeader(EgressPolicy policy, HttpRequestMessage? request, in Destination target)
    {
        string? header = request?.Headers.Host;
        if (header is null)
        {
            return null;
        }

        string scheme = request!.RequestUri is { IsAbsoluteUri: true } uri ? uri.Scheme : "http";
        EgressDecision decision;
        if (!DestinationParser.TryParse($"{scheme}://{header}", out var named, out var error))
        {
            decision = Invalid(policy, "Host header: " + error);
        }
        else if (string.Equals(named.Host, target.Host, StringComparison.Ordinal))
        {
            return null;
        }
        else
        {
            decision = policy.Decide(new Destination(named.Host, target.Port, named.Address));
        }

        return decision.Outcome == EgressOutcome.Allowed ? null : Enforce(policy, decision, header);
    }

    /// <summary>The decision for a destination that could not be read (denied; audit mode lets it through).</summary>
    public static EgressDecision Invalid(EgressPolicy policy, string? error)
    {
        string reason = "invalid destination: " + (error ?? "unreadable");
        return policy.Options.Enforce
            ? new EgressDecision(false, reason, null, null, 0, EgressOutcome.InvalidDestination, true)
            : new EgressDecision(true, "audit mode: would deny (" + reason + ")", null, null, 0, EgressOutcome.InvalidDestination, false);
    }
}

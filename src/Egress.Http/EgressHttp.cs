using Egress.Policy;
using Egress.Policy.Destinations;

namespace Egress.Http;

/// <summary>Shared helpers of the enforcement points: event source, recording and refusal.</summary>
internal static class EgressHttp
{
    /// <summary>The event source of every enforcement in this assembly.</summary>
    public const string Source = EgressSources.Http;

    /// <summary>What the Host header is called in a reason.</summary>
    public const string HostHeader = "Host header";

    /// <summary>The decision context of every enforcement in this assembly.</summary>
    public static readonly DecisionContext Context = new(Source);

    /// <summary>Key under which a request remembers the URI whose decision is already recorded.</summary>
    public static readonly HttpRequestOptionsKey<Uri> RecordedKey = new("Egress.Http.Recorded");

    /// <summary>The exception to throw for <paramref name="decision"/>, or null when it allows.</summary>
    public static EgressDeniedException? Refusal(EgressPolicy policy, in EgressDecision decision) =>
        decision.Allowed ? null : new EgressDeniedException(decision, policy.Options.LockFile);

    /// <summary>
    /// The per-request work of the handler and the guard's hooks: decides the request URI's authority (the one
    /// dialled) and the Host header's name when it differs (deny if either is denied), records one timed event,
    /// and returns the exception to throw when it denies.
    /// </summary>
    public static EgressDeniedException? EnforceRequest(EgressPolicy policy, Uri? uri, string? hostHeader, out EgressDecision decision)
    {
        decision = TryParse(uri, out var destination, out var error)
            ? policy.Evaluate(destination, hostHeader, HostHeader, Context)
            : policy.EvaluateInvalid(error, uri?.Host, Context);
        return Refusal(policy, decision);
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
}

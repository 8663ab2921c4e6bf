using System.Text.Json;
using Egress.Policy;
using Egress.Policy.Destinations;
using Egress.Policy.Telemetry;

namespace Egress.Proxy.Http;

/// <summary>
/// The 403 a policy denial gets: the reason in <see cref="ProxyResponses.ReasonHeader"/> and a JSON body
/// written from the decision's fields — host, port, <c>outcome</c> (as the journal spells it), the resolved
/// <c>address</c> and its <c>range</c> when one was judged, the <c>client</c> identity when known, the
/// <c>role</c> on a gateway with roles, and the
/// token that would allow it — so that a client reads fields and never parses the reason text (kept in
/// <c>reason</c> for people). Each body field is one line below.
/// </summary>
internal static class DenialResponse
{
    /// <summary>The bytes of the 403 for <paramref name="decision"/> of <paramref name="host"/>:<paramref name="port"/>.</summary>
    /// <param name="decision">The denial (its outcome, address, range and reason are written).</param>
    /// <param name="host">The host as the client named it, canonical where it could be parsed.</param>
    /// <param name="port">The port.</param>
    /// <param name="suggestedToken">The token that would allow it; empty when none can (an invalid destination).</param>
    /// <param name="context">Who asked (source, client, role).</param>
    public static byte[] Build(in EgressDecision decision, string host, int port, string suggestedToken, in DecisionContext context)
    {
        var d = decision;
        string? client = context.Client;
        string? role = context.Role;
        string body = ProxyResponses.Json(w =>
        {
            w.WriteString("host", host);
            w.WriteNumber("port", port);
            w.WriteString("outcome", EgressMetrics.OutcomeName(d.Outcome));
            WriteIfSet(w, "address", d.Address is { } address ? HostCanonicalizer.FormatAddress(address) : null);
            WriteIfSet(w, "range", d.AddressRange);
            WriteIfSet(w, "client", client);
            WriteIfSet(w, "role", role); // a gateway with roles: whose allowlist the token belongs in
            w.WriteString("reason", d.Reason);
            w.WriteString("suggested_token", suggestedToken);
        });
        return ProxyResponses.Build(403, "application/json", body, close: true, $"{ProxyResponses.ReasonHeader}: {ProxyResponses.HeaderSafe(decision.Reason)}\r\n");
    }

    private static void WriteIfSet(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
        }
    }
}

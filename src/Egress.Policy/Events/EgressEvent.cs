using System.Text.Json.Serialization;

namespace Egress.Policy.Events;

/// <summary>
/// One recorded decision. Serialised with snake_case names in logs, the journal and summaries.
/// </summary>
public sealed record EgressEvent
{
    /// <summary>Milliseconds since the Unix epoch.</summary>
    [JsonPropertyName("ts")]
    public long Timestamp { get; init; }

    /// <summary><c>ALLOW</c> or <c>DENY</c>.</summary>
    [JsonPropertyName("action")]
    public string Action { get; init; } = "DENY";

    /// <summary>Canonical host, or the (bounded) raw input when it could not be canonicalised.</summary>
    [JsonPropertyName("host")]
    public string Host { get; init; } = string.Empty;

    /// <summary>Destination port, 0 when unknown.</summary>
    [JsonPropertyName("port")]
    public int Port { get; init; }

    /// <summary>
    /// What the policy found (<c>allowed</c>, <c>not_in_allowlist</c>, <c>special_purpose_address</c>,
    /// <c>invalid_destination</c>, <c>protocol_not_allowed</c>); with <see cref="WouldDeny"/> set, the audit-mode form of a denial.
    /// <see langword="null"/> only in lines written before the field existed.
    /// </summary>
    [JsonPropertyName("outcome")]
    public EgressOutcome? Outcome { get; init; }

    /// <summary>The resolved address that was judged (and, when allowed, dialled), or null for a host-only decision.</summary>
    [JsonPropertyName("address")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Address { get; init; }

    /// <summary>The special-purpose range of <see cref="Address"/> (<c>loopback</c>, <c>private</c>, …), or null.</summary>
    [JsonPropertyName("range")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Range { get; init; }

    /// <summary>The client that asked for the connection, where the enforcement point knows it.</summary>
    [JsonPropertyName("client")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Client { get; init; }

    /// <summary>The role of <see cref="Client"/> (per-client policies), or null.</summary>
    [JsonPropertyName("role")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Role { get; init; }

    /// <summary>Why the decision was taken (for people; programs read <see cref="Outcome"/> and the fields).</summary>
    [JsonPropertyName("reason")]
    public string Reason { get; init; } = string.Empty;

    /// <summary>Matched token, or null.</summary>
    [JsonPropertyName("token")]
    public string? Token { get; init; }

    /// <summary>Which enforcement point decided: <c>http</c>, <c>proxy</c>, <c>check</c>, …</summary>
    [JsonPropertyName("source")]
    public string Source { get; init; } = "check";

    /// <summary>Process id of the deciding process.</summary>
    [JsonPropertyName("pid")]
    public int Pid { get; init; }

    /// <summary>Managed thread id of the deciding thread.</summary>
    [JsonPropertyName("thread")]
    public int Thread { get; init; }

    /// <summary>Audit mode let this through although the policy would deny it.</summary>
    [JsonPropertyName("would_deny")]
    public bool WouldDeny { get; init; }

    /// <summary>Whether the destination was let through (mirrors <see cref="Action"/> for log readers).</summary>
    [JsonPropertyName("allowed")]
    public bool Allowed => Action == "ALLOW";

    /// <summary>
    /// The host, with <c>:port</c> when the port is not a web default (0, 80, 443): how reports, summaries,
    /// suggestions and the learner name a destination, so <c>127.0.0.1:28461</c> and <c>127.0.0.1:28462</c> stay apart.
    /// </summary>
    [JsonIgnore]
    public string Authority => EgressPolicy.Authority(Host, Port);

    /// <summary>Whether the event is a denial.</summary>
    [JsonIgnore]
    public bool IsBlocked => Action == "DENY";
}

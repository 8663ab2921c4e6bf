using System.Text.Json.Serialization;

namespace Egress.Policy.Events;

/// <summary>
/// One recorded decision (SPEC §4). Serialised with snake_case names in logs, the journal and summaries.
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

    /// <summary>Why the decision was taken.</summary>
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

    /// <summary>Whether the event is a denial.</summary>
    [JsonIgnore]
    public bool IsBlocked => Action == "DENY";
}

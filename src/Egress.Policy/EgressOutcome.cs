using System.Text.Json.Serialization;

namespace Egress.Policy;

/// <summary>
/// What a decision found, independent of enforcement mode (an audit-mode event carries the same outcome with
/// <c>would_deny</c> set). Written in events as <c>allowed</c>, <c>not_in_allowlist</c>,
/// <c>invalid_destination</c>, <c>special_purpose_address</c> and <c>protocol_not_allowed</c>.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<EgressOutcome>))]
public enum EgressOutcome
{
    /// <summary>An allowlist token matched.</summary>
    [JsonStringEnumMemberName("allowed")]
    Allowed,

    /// <summary>No allowlist token matched the destination.</summary>
    [JsonStringEnumMemberName("not_in_allowlist")]
    NotInAllowlist,

    /// <summary>The destination could not be canonicalised.</summary>
    [JsonStringEnumMemberName("invalid_destination")]
    InvalidDestination,

    /// <summary>The host is allowed, but it resolved to a special-purpose address no IP/CIDR or exact-host token names.</summary>
    [JsonStringEnumMemberName("special_purpose_address")]
    SpecialPurposeAddress,

    /// <summary>
    /// The transport itself is never let out, whatever the allowlist says (UDP from an isolated <c>run</c>, which
    /// only forwards TCP and answers DNS inside): always a denial, in audit mode too, because the kernel dropped it.
    /// </summary>
    [JsonStringEnumMemberName("protocol_not_allowed")]
    ProtocolNotAllowed,
}

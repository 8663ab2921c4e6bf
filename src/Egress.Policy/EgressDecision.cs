namespace Egress.Policy;

/// <summary>
/// The result of deciding one destination: <c>allowed</c>, <c>reason</c>, <c>matched_token</c>,
/// <c>destination_host</c>. A value type so that the decision path allocates nothing.
/// </summary>
/// <param name="Allowed">Whether the connection may proceed (in audit mode, always true).</param>
/// <param name="Reason">Why, in words a user can act on.</param>
/// <param name="MatchedToken">The allowlist token that matched, or <see langword="null"/>.</param>
/// <param name="DestinationHost">The canonical host, or <see langword="null"/> when the input could not be canonicalised.</param>
/// <param name="Port">The destination port, 0 when unknown.</param>
/// <param name="Outcome">What the policy found, independent of enforcement.</param>
/// <param name="Enforced">Whether enforcement was on; when off, a denial is recorded but not applied.</param>
public readonly record struct EgressDecision(
    bool Allowed,
    string Reason,
    string? MatchedToken,
    string? DestinationHost,
    int Port,
    EgressOutcome Outcome,
    bool Enforced)
{
    /// <summary>
    /// The resolved address this decision judged (<see cref="EgressPolicy.DecideAddress(in Destinations.Destination, System.Net.IPAddress)"/>, a connection's
    /// chosen address), or <see langword="null"/> for a host-only decision.
    /// </summary>
    public System.Net.IPAddress? Address { get; init; }

    /// <summary>The special-purpose range <see cref="Address"/> lies in (<c>loopback</c>, <c>private</c>, …), or <see langword="null"/>.</summary>
    public string? AddressRange { get; init; }

    /// <summary>Audit mode let through a destination the policy would have denied.</summary>
    public bool WouldDeny => Outcome != EgressOutcome.Allowed && !Enforced;

    /// <summary>The event action: <c>ALLOW</c> or <c>DENY</c>.</summary>
    public string Action => Allowed ? "ALLOW" : "DENY";
}

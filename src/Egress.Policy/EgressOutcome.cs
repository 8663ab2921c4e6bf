namespace Egress.Policy;

/// <summary>What a decision found, independent of enforcement mode.</summary>
public enum EgressOutcome
{
    /// <summary>An allowlist token matched.</summary>
    Allowed,
    /// <summary>No allowlist token matched the destination.</summary>
    NotInAllowlist,
    /// <summary>The destination could not be canonicalised.</summary>
    InvalidDestination,
    /// <summary>The host is allowed, but it resolved to a special-purpose address no IP/CIDR or exact-host token names.</summary>
    SpecialPurposeAddress,
}

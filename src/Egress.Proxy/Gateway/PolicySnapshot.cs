using Egress.Policy;
using Egress.Proxy.Roles;

namespace Egress.Proxy.Gateway;

/// <summary>One compiled policy the gateway enforces, with the SHA-256 of the file it came from.</summary>
/// <param name="Policy">The compiled policy (with roles: the default role's, for clients no role matches).</param>
/// <param name="Sha256">Hex SHA-256 of the policy file's bytes (or of the allowlist text when no file is used).</param>
/// <param name="Generation">Increases by one with every accepted reload; 0 at start-up.</param>
public sealed record PolicySnapshot(EgressPolicy Policy, string Sha256, long Generation)
{
    /// <summary>The roles of this generation (swapped together with <see cref="Policy"/>), or null when the file has none.</summary>
    public RoleTable? Roles { get; init; }
}

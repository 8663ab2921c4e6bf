using Egress.Policy;
using Egress.Proxy.Roles;

namespace Egress.Proxy.Gateway;

/// <summary>One compiled policy the gateway enforces, with the SHA-256 of the file it came from.</summary>
public sealed class PolicySnapshot
{
    private readonly Lazy<string> _sha256;

    /// <summary>A snapshot whose SHA-256 is known.</summary>
    /// <param name="policy">The compiled policy (with roles: the default role's, for clients no role matches).</param>
    /// <param name="sha256">Hex SHA-256 of the policy file's bytes (or of the allowlist text when no file is used).</param>
    /// <param name="generation">Increases by one with every accepted reload; 0 at start-up.</param>
    public PolicySnapshot(EgressPolicy policy, string sha256, long generation)
        : this(policy, new Lazy<string>(sha256), generation)
    {
    }

    /// <summary>
    /// A snapshot whose SHA-256 is computed when first asked for (<c>/healthz</c>, the info gauge, a reload):
    /// hashing loads OpenSSL's libcrypto, ≈ 3.6 MiB of resident memory a proxy that is never asked does not need.
    /// </summary>
    /// <param name="policy">The compiled policy.</param>
    /// <param name="sha256">Computes the hex SHA-256, once.</param>
    /// <param name="generation">Increases by one with every accepted reload; 0 at start-up.</param>
    public PolicySnapshot(EgressPolicy policy, Func<string> sha256, long generation)
        : this(policy, new Lazy<string>(sha256, LazyThreadSafetyMode.ExecutionAndPublication), generation)
    {
    }

    private PolicySnapshot(EgressPolicy policy, Lazy<string> sha256, long generation)
    {
        ArgumentNullException.ThrowIfNull(policy);
        Policy = policy;
        _sha256 = sha256;
        Generation = generation;
    }

    /// <summary>The compiled policy (with roles: the default role's, for clients no role matches).</summary>
    public EgressPolicy Policy { get; }

    /// <summary>Hex SHA-256 of the policy file's bytes (or of the allowlist text when no file is used).</summary>
    public string Sha256 => _sha256.Value;

    /// <summary>Increases by one with every accepted reload; 0 at start-up.</summary>
    public long Generation { get; }

    /// <summary>The roles of this generation (swapped together with <see cref="Policy"/>), or null when the file has none.</summary>
    public RoleTable? Roles { get; init; }
}

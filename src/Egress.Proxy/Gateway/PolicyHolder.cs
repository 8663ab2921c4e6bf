using Egress.Policy;

namespace Egress.Proxy.Gateway;

/// <summary>
/// The policy the gateway enforces now. A reload replaces the whole snapshot with one reference write,
/// so a request sees the old policy or the new one, never a mix; a tunnel keeps the decision it was given.
/// </summary>
public sealed class PolicyHolder
{
    private PolicySnapshot _current;

    /// <summary>Holds <paramref name="initial"/> (and its <paramref name="roles"/>) as generation 0.</summary>
    public PolicyHolder(EgressPolicy initial, string sha256, Roles.RoleTable? roles = null)
    {
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentException.ThrowIfNullOrEmpty(sha256);
        _current = new PolicySnapshot(initial, sha256, 0) { Roles = roles };
    }

    /// <summary>Holds <paramref name="initial"/> as generation 0, its SHA-256 computed when first asked for.</summary>
    public PolicyHolder(EgressPolicy initial, Func<string> sha256, Roles.RoleTable? roles = null)
    {
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(sha256);
        _current = new PolicySnapshot(initial, sha256, 0) { Roles = roles };
    }

    /// <summary>The snapshot enforced now.</summary>
    public PolicySnapshot Current => Volatile.Read(ref _current);

    /// <summary>The policy enforced now.</summary>
    public EgressPolicy Policy => Current.Policy;

    /// <summary>Replaces the policy and every role at once; returns the new snapshot.</summary>
    public PolicySnapshot Swap(EgressPolicy policy, string sha256, Roles.RoleTable? roles = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        while (true)
        {
            var old = Current;
            var next = new PolicySnapshot(policy, sha256, old.Generation + 1) { Roles = roles };
            if (Interlocked.CompareExchange(ref _current, next, old) == old)
            {
                return next;
            }
        }
    }
}

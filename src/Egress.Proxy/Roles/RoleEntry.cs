using Egress.Policy;
using Egress.Policy.Roles;

namespace Egress.Proxy.Roles;

/// <summary>One compiled role of a <see cref="RoleTable"/>.</summary>
/// <param name="Name">The role's name (<c>default</c> for the default).</param>
/// <param name="Policy">Its compiled allowlist.</param>
/// <param name="Definition">Its section of the file (null for the default).</param>
public sealed record RoleEntry(string Name, EgressPolicy Policy, RoleDefinition? Definition);

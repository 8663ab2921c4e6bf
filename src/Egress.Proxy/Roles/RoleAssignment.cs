using Egress.Policy;

namespace Egress.Proxy.Roles;

/// <summary>
/// The role a request was given: the policy that decides it and the context its event carries (client and
/// role), or, when <see cref="Failure"/> is set, why the client must authenticate again (a 407).
/// </summary>
/// <param name="Policy">The role's compiled policy (null on failure).</param>
/// <param name="Context">Source, client and role for the event.</param>
/// <param name="Failure">Why the <c>Proxy-Authorization</c> was refused, or null.</param>
public readonly record struct RoleAssignment(EgressPolicy? Policy, DecisionContext Context, string? Failure);

using System.Collections.Immutable;
using Egress.Policy.Tokens;

namespace Egress.Policy.Roles;

/// <summary>One <c>[role NAME]</c> section of a policy file: who it is for and what it may reach.</summary>
/// <param name="Name">The role's name (a DNS-1123 label, so it can also be a Kubernetes label value).</param>
/// <param name="Line">1-based line of the section header.</param>
/// <param name="Tokens">The role's allowlist (parsed once, valid tokens only; a file with an invalid one is rejected whole).</param>
/// <param name="Sources">Client networks (<c>match source</c>).</param>
/// <param name="Users">Proxy-Authorization users (<c>match user</c>).</param>
/// <param name="Subjects">TLS client-certificate subjects (<c>match subject</c>), normalised.</param>
public sealed record RoleDefinition(
    string Name,
    int Line,
    ImmutableArray<EgressToken> Tokens,
    ImmutableArray<RoleSource> Sources,
    ImmutableArray<RoleUser> Users,
    ImmutableArray<RoleSubject> Subjects)
{
    /// <summary>The token texts, sorted (what a lock of this role holds).</summary>
    public ImmutableArray<string> TokenTexts => [.. Tokens.Select(t => t.Text).Distinct().Order(StringComparer.Ordinal)];
}

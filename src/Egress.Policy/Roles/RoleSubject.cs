namespace Egress.Policy.Roles;

/// <summary>A <c>match subject DN</c> line: a TLS client certificate (verified against <c>--client-ca</c>) with this subject.</summary>
/// <param name="Name">The distinguished name, normalised as .NET formats a certificate's subject (<c>CN=a, O=b</c>).</param>
/// <param name="Line">1-based line in the policy file.</param>
public sealed record RoleSubject(string Name, int Line);

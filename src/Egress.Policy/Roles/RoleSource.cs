using System.Net;

namespace Egress.Policy.Roles;

/// <summary>A <c>match source ADDRESS|CIDR</c> line: clients whose address is inside <paramref name="Network"/>.</summary>
/// <param name="Network">The network (an address alone is a /32 or /128; IPv4-mapped IPv6 is stored as IPv4).</param>
/// <param name="Line">1-based line in the policy file.</param>
public sealed record RoleSource(IPNetwork Network, int Line);

using System.Collections.Immutable;

namespace Egress.Policy.Roles;

/// <summary>
/// A <c>match user NAME sha256:HEX</c> line: a client that sends <c>Proxy-Authorization: Basic</c> with this
/// user and a password whose SHA-256 is <paramref name="PasswordSha256"/>.
/// </summary>
/// <param name="Name">The user name (case-sensitive, no <c>:</c>, printable ASCII).</param>
/// <param name="PasswordSha256">SHA-256 of the password's UTF-8 bytes (32 bytes).</param>
/// <param name="Line">1-based line in the policy file.</param>
public sealed record RoleUser(string Name, ImmutableArray<byte> PasswordSha256, int Line);

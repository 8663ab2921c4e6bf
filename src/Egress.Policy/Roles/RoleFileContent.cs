using System.Collections.Immutable;
using Egress.Policy.Locking;
using Egress.Policy.Tokens;

namespace Egress.Policy.Roles;

/// <summary>A policy file as read by <see cref="RoleFile.Parse"/>: the default allowlist, the roles, and every problem.</summary>
/// <param name="Default">Tokens before the first section: the allowlist of clients no role matches (empty: they are denied everything).</param>
/// <param name="Roles">The <c>[role NAME]</c> sections, in file order.</param>
/// <param name="Problems">Lines that are not valid, with their 1-based numbers; a file with any is never enforced.</param>
public sealed record RoleFileContent(ImmutableArray<EgressToken> Default, ImmutableArray<RoleDefinition> Roles, ImmutableArray<LockFileProblem> Problems)
{
    /// <summary>Whether the file has <c>[role]</c> sections (without them it is a plain lock file).</summary>
    public bool HasRoles => !Roles.IsEmpty;

    /// <summary>The default allowlist's token texts, sorted.</summary>
    public ImmutableArray<string> DefaultTexts => [.. Default.Select(t => t.Text).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>The role called <paramref name="name"/>, or null.</summary>
    public RoleDefinition? Find(string? name) => Roles.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.Ordinal));
}

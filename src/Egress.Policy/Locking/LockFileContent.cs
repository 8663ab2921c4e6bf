using System.Collections.Immutable;

namespace Egress.Policy.Locking;

/// <summary>A lock file as read: its token set and the lines that are not valid tokens.</summary>
/// <param name="Tokens">Every non-comment line, trimmed and lower-cased (invalid ones included, so drift still shows them).</param>
/// <param name="Problems">Lines the token grammar rejects, in file order.</param>
public sealed record LockFileContent(ImmutableSortedSet<string> Tokens, ImmutableArray<LockFileProblem> Problems);

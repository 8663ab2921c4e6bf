using System.Collections.Immutable;
using System.Text;
using Egress.Policy.Configuration;
using Egress.Policy.Events;
using Egress.Policy.Locking;
using Egress.Policy.Verification;

namespace Egress.Policy.Roles;

/// <summary>
/// <c>--verify</c> on a lock file with <c>[role]</c> sections (the gateway's policy file): every line must be
/// valid (rule 3, naming file and line), the allowlist must equal the default section (rule 4), and each role's
/// events must stay inside that role's section: an allowed event of role R through a token R's section does not
/// hold, or events of a role the file does not define, are drift (rule 4).
/// </summary>
public static class RoleVerification
{
    /// <summary>Reads <paramref name="path"/> when it is a policy file with role syntax; null for a plain lock file.</summary>
    /// <exception cref="IOException">The file cannot be read (named in the message).</exception>
    public static RoleFileContent? TryRead(string path)
    {
        var bytes = LockFile.ReadBytes(path).AsSpan();
        if (bytes.StartsWith(Encoding.UTF8.Preamble))
        {
            bytes = bytes[Encoding.UTF8.Preamble.Length..];
        }

        var text = Encoding.UTF8.GetString(bytes);
        return RoleFile.HasRoleSyntax(text) ? RoleFile.Parse(text) : null;
    }

    /// <summary>Applies the rules; <paramref name="fail"/> takes rule failures, <paramref name="drift"/> drift.</summary>
    public static void Verify(string path, RoleFileContent content, ImmutableArray<string> allowlist, EventStatistics events, Action<int, VerificationCategory, string> fail, Action<string> drift)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(fail);
        ArgumentNullException.ThrowIfNull(drift);
        foreach (var problem in content.Problems)
        {
            fail(3, VerificationCategory.Validation, problem.Describe(path));
        }

        var (added, removed) = LockFile.Diff(allowlist, content.DefaultTexts);
        if (!added.IsEmpty || !removed.IsEmpty)
        {
            var parts = new List<string>();
            if (!added.IsEmpty)
            {
                parts.Add($"not in its default section: {string.Join(", ", added)}");
            }

            if (!removed.IsEmpty)
            {
                parts.Add($"in its default section but not in {EgressEnvironment.Allowlist}: {string.Join(", ", removed)}");
            }

            drift($"allowlist drift against {path} ({string.Join("; ", parts)})");
        }

        foreach (var (role, count) in events.RoleEvents.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            if (role != RoleFile.DefaultRole && content.Find(role) is null)
            {
                drift($"{count} event(s) of role '{EgressOptionsReader.Printable(role)}', which {path} does not define");
            }
        }

        var outside = events.RoleTokens
            .Where(rt => TokensOf(content, rt.Role) is { } tokens && !tokens.Contains(rt.Token))
            .OrderBy(rt => rt.Role, StringComparer.Ordinal).ThenBy(rt => rt.Token, StringComparer.Ordinal)
            .ToList();
        foreach (var group in outside.GroupBy(rt => rt.Role))
        {
            string where = group.Key == RoleFile.DefaultRole ? "the default section" : $"the section of role '{group.Key}'";
            drift($"role '{group.Key}' was allowed through token(s) {string.Join(", ", group.Select(rt => $"'{EgressOptionsReader.Printable(rt.Token)}'"))}, which {where} of {path} does not hold");
        }
    }

    private static HashSet<string>? TokensOf(RoleFileContent content, string role)
        => role == RoleFile.DefaultRole ? [.. content.DefaultTexts] : content.Find(role) is { } r ? [.. r.TokenTexts] : null;
}

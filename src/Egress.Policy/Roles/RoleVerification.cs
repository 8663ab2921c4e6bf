using System.Text;
using Egress.Policy.Configuration;
using Egress.Policy.Events;
using Egress.Policy.Locking;

namespace Egress.Policy.Roles;

/// <summary>
/// <c>--verify</c> on a lock file with <c>[role]</c> sections (the gateway's policy file): read here, so that every
/// line is checked (rule 3, naming file and line) and the allowlist is compared with the default section (rule 4)
/// by the ordinary rules, and each role's events are checked against that role's section (<see cref="EventDrift"/>).
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

    /// <summary>
    /// Rule 4 for each role's events: an allowed event of role R through a token R's section does not hold, or events
    /// of a role the file does not define, mean the gateway enforced something other than this lock; each is one drift message.
    /// </summary>
    public static IEnumerable<string> EventDrift(string path, RoleFileContent content, EventStatistics events)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(events);
        foreach (var (role, count) in events.RoleEvents.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            if (role != RoleFile.DefaultRole && content.Find(role) is null)
            {
                yield return $"{count} event(s) of role '{EgressOptionsReader.Printable(role)}', which {path} does not define";
            }
        }

        var outside = events.RoleTokens
            .Where(rt => TokensOf(content, rt.Role) is { } tokens && !tokens.Contains(rt.Token))
            .OrderBy(rt => rt.Role, StringComparer.Ordinal).ThenBy(rt => rt.Token, StringComparer.Ordinal)
            .ToList();
        foreach (var group in outside.GroupBy(rt => rt.Role))
        {
            string where = group.Key == RoleFile.DefaultRole ? "the default section" : $"the section of role '{group.Key}'";
            yield return $"role '{group.Key}' was allowed through token(s) {string.Join(", ", group.Select(rt => $"'{EgressOptionsReader.Printable(rt.Token)}'"))}, which {where} of {path} does not hold";
        }
    }

    private static HashSet<string>? TokensOf(RoleFileContent content, string role)
        => role == RoleFile.DefaultRole ? [.. content.DefaultTexts] : content.Find(role) is { } r ? [.. r.TokenTexts] : null;
}

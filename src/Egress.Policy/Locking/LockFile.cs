using System.Collections.Immutable;
using System.Text;
using Egress.Policy.Configuration;

namespace Egress.Policy.Locking;

/// <summary>
/// The reviewed allowlist lock file (SPEC §7): one token per line, <c>#</c> comments, blank lines ignored,
/// case- and order-insensitive.
/// </summary>
public static class LockFile
{
    /// <summary>Largest lock file read; a larger one is a configuration error, not a reason to read gigabytes.</summary>
    public const long MaxBytes = 4 * 1024 * 1024;

    /// <summary>
    /// Finds the lock file: <c>EGRESS_LOCK_FILE</c> if set (even when missing, so the error names it), else
    /// <c>./policy_allowlist.lock</c>, else <c>./core_modules/network/policy_allowlist.lock</c>.
    /// </summary>
    /// <returns>The path and whether it was explicitly configured, or a null path when none exists.</returns>
    public static (string? Path, bool Explicit) Discover(EgressOptions options, string? workingDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var cwd = workingDirectory ?? Directory.GetCurrentDirectory();
        if (options.LockFile is { } configured)
        {
            return (Path.GetFullPath(configured, cwd), true);
        }

        foreach (var candidate in new[] { EgressDefaults.LockFileName, EgressDefaults.SeedLockFilePath })
        {
            var full = Path.GetFullPath(candidate, cwd);
            if (File.Exists(full))
            {
                return (full, false);
            }
        }

        return (null, false);
    }

    /// <summary>Parses lock file text into its token set (lower-cased, trimmed, comments and blanks dropped).</summary>
    public static ImmutableSortedSet<string> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = ImmutableSortedSet.CreateBuilder<string>(StringComparer.Ordinal);
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine;
            int hash = line.IndexOf('#');
            if (hash >= 0)
            {
                line = line[..hash];
            }

            line = line.Trim().ToLowerInvariant();
            if (line.Length > 0)
            {
                tokens.Add(line);
            }
        }

        return tokens.ToImmutable();
    }

    /// <summary>Reads and parses the lock file at <paramref name="path"/>. Throws <see cref="IOException"/> naming the file.</summary>
    public static ImmutableSortedSet<string> Read(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"lock file {path} {(Directory.Exists(path) ? "is a directory" : "does not exist")}", path);
        }

        if (info.Length > MaxBytes)
        {
            throw new IOException($"lock file {path} is larger than {MaxBytes} bytes");
        }

        return Parse(File.ReadAllText(path, Encoding.UTF8));
    }

    /// <summary>Renders a lock file for <paramref name="tokens"/> with the review header.</summary>
    public static string Render(IEnumerable<string> tokens)
    {
        var sb = new StringBuilder();
        sb.Append("# Egress Policy Allowlist Lock\n")
          .Append("# One token per line, comments start with #\n")
          .Append("# This file locks the allowed destinations to prevent drift\n")
          .Append("# Update via PR review only (see CODEOWNERS); regenerate with: egress-policy lock\n\n");
        foreach (var token in tokens.Select(t => t.Trim().ToLowerInvariant()).Where(t => t.Length > 0).Distinct().Order(StringComparer.Ordinal))
        {
            sb.Append(token).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>Writes the lock file atomically.</summary>
    public static void Write(string path, IEnumerable<string> tokens) => AtomicFile.WriteAllText(path, Render(tokens));

    /// <summary>Tokens in the allowlist but not the lock (<c>Added</c>) and in the lock but not the allowlist (<c>Removed</c>).</summary>
    public static (ImmutableArray<string> Added, ImmutableArray<string> Removed) Diff(IEnumerable<string> allowlist, IEnumerable<string> locked)
    {
        var current = allowlist.Select(t => t.Trim().ToLowerInvariant()).Where(t => t.Length > 0).ToHashSet(StringComparer.Ordinal);
        var pinned = locked.Select(t => t.Trim().ToLowerInvariant()).Where(t => t.Length > 0).ToHashSet(StringComparer.Ordinal);
        return ([.. current.Except(pinned).Order(StringComparer.Ordinal)], [.. pinned.Except(current).Order(StringComparer.Ordinal)]);
    }
}

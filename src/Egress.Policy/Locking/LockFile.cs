using System.Collections.Immutable;
using System.Text;
using Egress.Policy.Configuration;
using Egress.Policy.FileSystem;
using Egress.Policy.Tokens;

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
    public static ImmutableSortedSet<string> Parse(string text) => ParseContent(text).Tokens;

    /// <summary>
    /// Parses lock file text: the token set, and every non-comment line checked with the token grammar
    /// (the lines that are invalid or wildcards, with their 1-based line numbers).
    /// </summary>
    public static LockFileContent ParseContent(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = ImmutableSortedSet.CreateBuilder<string>(StringComparer.Ordinal);
        var problems = ImmutableArray.CreateBuilder<LockFileProblem>();
        var valid = new List<EgressToken>();
        var lineOf = new Dictionary<string, int>(StringComparer.Ordinal);
        int number = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            number++;
            var line = rawLine;
            int hash = line.IndexOf('#');
            if (hash >= 0)
            {
                line = line[..hash];
            }

            line = line.Trim().ToLowerInvariant();
            if (line.Length == 0)
            {
                continue;
            }

            tokens.Add(line);
            if (EgressToken.TryParse(line, out var parsed, out var error))
            {
                valid.Add(parsed!);
                lineOf.TryAdd(parsed!.Text, number);
            }
            else
            {
                bool wildcard = EgressToken.IsWildcard(line);
                var shown = Escape(line);
                problems.Add(new LockFileProblem(number, shown, wildcard ? $"wildcard token '{shown}' is prohibited" : error!, wildcard));
            }
        }

        // Lines that are each valid but together cover a whole address family are a wildcard too (named at the first).
        var covering = ImmutableArray.CreateBuilder<TokenError>();
        NetworkCoverage.RejectWholeFamily(valid, covering);
        foreach (var group in covering)
        {
            string first = group.Token.Split(',')[0];
            problems.Add(new LockFileProblem(lineOf.GetValueOrDefault(first), Escape(group.Token), group.Message, IsWildcard: true));
        }

        return new LockFileContent(tokens.ToImmutable(), problems.ToImmutable());
    }

    /// <summary>Reads and parses the lock file at <paramref name="path"/>. Throws <see cref="IOException"/> naming the file.</summary>
    public static ImmutableSortedSet<string> Read(string path) => Load(path).Tokens;

    /// <summary>
    /// Reads the lock file at <paramref name="path"/>: tokens and invalid lines. It must be a regular file (not
    /// a link, FIFO or device) of at most <see cref="MaxBytes"/> bytes. Throws <see cref="IOException"/> naming the file.
    /// </summary>
    public static LockFileContent Load(string path)
    {
        var data = ReadBytes(path).AsSpan();
        if (data.StartsWith(Encoding.UTF8.Preamble))
        {
            data = data[Encoding.UTF8.Preamble.Length..];
        }

        return ParseContent(Encoding.UTF8.GetString(data));
    }

    /// <summary>
    /// The raw bytes of the lock file at <paramref name="path"/>, read the safe way: no symlink followed, a
    /// regular file required (never a FIFO or a device), at most <see cref="MaxBytes"/>.
    /// </summary>
    /// <exception cref="IOException">The file is missing, not a regular file, too large or unreadable.</exception>
    public static byte[] ReadBytes(string path)
    {
        using var stream = RegularFile.OpenRead(path, "lock file") ?? throw new FileNotFoundException($"lock file {path} does not exist", path);
        var bytes = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = stream.Read(buffer)) > 0)
        {
            bytes.Write(buffer, 0, n);
            if (bytes.Length > MaxBytes)
            {
                throw new IOException($"lock file {path} is larger than {MaxBytes} bytes");
            }
        }

        return bytes.ToArray();
    }

    /// <summary>A lock file token as shown to a reviewer: whole, with control characters escaped (<c>\u001b</c>).</summary>
    public static string Escape(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        return EgressOptionsReader.Printable(token, int.MaxValue);
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

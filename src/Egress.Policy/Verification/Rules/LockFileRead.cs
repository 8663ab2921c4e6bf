using Egress.Policy.Configuration;
using Egress.Policy.FileSystem;
using Egress.Policy.Locking;

namespace Egress.Policy.Verification.Rules;

/// <summary>The lock file as verification sees it: where it is, whether it was configured, and its content or why it could not be read.</summary>
/// <param name="Path">The discovered or configured path; null when there is none.</param>
/// <param name="IsExplicit">Whether <c>EGRESS_LOCK_FILE</c> named it (then an unreadable file is an error everywhere).</param>
/// <param name="Content">The tokens and invalid lines; null when there is no file or it could not be read.</param>
/// <param name="ReadError">Why it could not be read (the message names the file); null otherwise.</param>
/// <param name="Roles">
/// For a gateway policy file with <c>[role]</c> sections (Roles/RoleFile): its roles; <paramref name="Content"/> is
/// then the default section's tokens and every invalid line of the file. Null for a plain lock file.
/// </param>
internal sealed record LockFileRead(string? Path, bool IsExplicit, LockFileContent? Content, string? ReadError, Roles.RoleFileContent? Roles = null)
{
    public static LockFileRead From(EgressOptions options, string? workingDirectory)
    {
        var (path, isExplicit) = LockFile.Discover(options, workingDirectory);
        if (path is null)
        {
            return new LockFileRead(null, isExplicit, null, null);
        }

        try
        {
            if (Policy.Roles.RoleVerification.TryRead(path) is { } roles)
            {
                var tokens = System.Collections.Immutable.ImmutableSortedSet.CreateRange(StringComparer.Ordinal, roles.DefaultTexts);
                return new LockFileRead(path, isExplicit, new LockFileContent(tokens, roles.Problems), null, roles);
            }

            return new LockFileRead(path, isExplicit, LockFile.Load(path), null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new LockFileRead(path, isExplicit, null, FileErrors.Describe("read", "lock file", path, ex));
        }
    }
}

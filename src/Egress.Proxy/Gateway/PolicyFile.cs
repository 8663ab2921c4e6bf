using System.Security.Cryptography;
using System.Text;
using Egress.Policy.Locking;
using Egress.Policy.Roles;

namespace Egress.Proxy.Gateway;

/// <summary>
/// Reads the gateway's policy file (lock-file format: one token a line, <c>#</c> comments, optionally
/// <c>[role NAME]</c> sections, see <see cref="RoleFile"/>) and applies the verify rules a policy must pass to
/// be enforced: readable, UTF-8, not empty, every line valid (no wildcard), no identity in two roles. Every
/// token is parsed here once; the compiled policy reuses the parsed tokens.
/// </summary>
public static class PolicyFile
{
    private const int ProblemsShown = 5;

    /// <summary>Reads <paramref name="path"/>; on failure <paramref name="error"/> names the file, the lines and what is wrong. Never throws for bad input.</summary>
    public static bool TryLoad(string path, out RoleFileContent? content, out string sha256, out string? error)
    {
        ArgumentNullException.ThrowIfNull(path);
        content = null;
        sha256 = "";
        byte[] bytes;
        try
        {
            // Symlinks are followed on purpose: a Kubernetes ConfigMap volume is made of them.
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                error = $"policy file {path} does not exist";
                return false;
            }

            if (info.Length > LockFile.MaxBytes)
            {
                error = $"policy file {path} is larger than {LockFile.MaxBytes} bytes";
                return false;
            }

            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = $"cannot read policy file {path}: {ex.Message}";
            return false;
        }

        sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        string text;
        try
        {
            var span = bytes.AsSpan();
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(span.StartsWith(Encoding.UTF8.Preamble) ? span[Encoding.UTF8.Preamble.Length..] : span);
        }
        catch (DecoderFallbackException)
        {
            error = $"policy file {path} is not UTF-8";
            return false;
        }

        var parsed = RoleFile.Parse(text);
        if (!parsed.Problems.IsEmpty)
        {
            var problems = parsed.Problems;
            error = string.Join("; ", problems.Take(ProblemsShown).Select(p => $"policy file {path} line {p.Line}: {p.Message}"))
                + (problems.Length > ProblemsShown ? $" (and {problems.Length - ProblemsShown} more)" : "");
            return false;
        }

        if (parsed.Default.IsEmpty && !parsed.HasRoles)
        {
            error = $"policy file {path} holds no token (an empty policy would deny everything; write one token at least)";
            return false;
        }

        content = parsed;
        error = null;
        return true;
    }
}

using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Egress.Policy.Locking;
using Egress.Policy.Tokens;

namespace Egress.Proxy.Gateway;

/// <summary>
/// Reads the gateway's policy file (lock-file format: one token a line, <c>#</c> comments) and applies the
/// verify rules a policy must pass to be enforced: readable, not empty, every token valid, no wildcard.
/// </summary>
public static class PolicyFile
{
    /// <summary>Reads <paramref name="path"/>; on failure <paramref name="error"/> names the file and what is wrong. Never throws for bad input.</summary>
    public static bool TryLoad(string path, out ImmutableArray<string> tokens, out string sha256, out string? error)
    {
        ArgumentNullException.ThrowIfNull(path);
        tokens = [];
        sha256 = "";
        byte[] bytes;
        try
        {
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
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            error = $"policy file {path} is not UTF-8";
            return false;
        }

        var parsed = LockFile.Parse(text);
        if (parsed.IsEmpty)
        {
            error = $"policy file {path} holds no token (an empty policy would deny everything; write one token at least)";
            return false;
        }

        var problems = new List<string>();
        foreach (var token in parsed)
        {
            if (!EgressToken.TryParse(token, out _, out var why))
            {
                problems.Add(why!);
            }
        }

        if (problems.Count > 0)
        {
            error = $"policy file {path}: {string.Join("; ", problems.Take(5))}{(problems.Count > 5 ? $" (and {problems.Count - 5} more)" : "")}";
            return false;
        }

        tokens = [.. parsed];
        error = null;
        return true;
    }
}

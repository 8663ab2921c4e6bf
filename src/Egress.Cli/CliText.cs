using Egress.Policy.Configuration;

namespace Egress.Cli;

/// <summary>
/// Human-readable output hygiene: values from the environment, lock files and journals are echoed with
/// control characters replaced, so no value can break a line, forge another line, or start a CI workflow
/// command (<c>::error::…</c>) in a log.
/// </summary>
internal static class CliText
{
    /// <summary>The one line <c>check</c>, <c>run</c> and <c>proxy</c> print when <c>EGRESS_ALLOWLIST</c> is unset.</summary>
    public const string DefaultAllowlistNotice =
        $"egress-policy: {EgressEnvironment.Allowlist} is unset, so the default allowlist '{EgressDefaults.Allowlist}' is in force: " +
        $"a keyword that allows any host containing '{EgressDefaults.Allowlist}', e.g. api.openai.com but also openai.attacker.example; " +
        $"set {EgressEnvironment.Allowlist} (e.g. openai.com or =api.openai.com)";

    /// <summary>
    /// The reason an I/O call on <paramref name="path"/> failed, for "cannot read X PATH: REASON". .NET reports
    /// opening a directory for reading as "Access to the path … is denied", which sends people after
    /// permissions; this says what it is.
    /// </summary>
    public static string IoReason(string path, Exception ex)
        => ex is UnauthorizedAccessException && Directory.Exists(path) ? "it is a directory, not a file" : ex.Message;

    /// <summary><paramref name="text"/> with every control character replaced by <c>?</c>.</summary>
    public static string Clean(string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('\0', '\u001f') && !text.AsSpan().ContainsAnyInRange('\u007f', '\u009f'))
        {
            return text;
        }

        return string.Create(text.Length, text, static (span, src) =>
        {
            for (int i = 0; i < src.Length; i++)
            {
                span[i] = char.IsControl(src[i]) ? '?' : src[i];
            }
        });
    }

    /// <summary>Like <see cref="Clean"/>, and bounded to <paramref name="max"/> characters.</summary>
    public static string Bounded(string text, int max = 200)
        => Clean(text.Length > max ? text[..max] + "…" : text);
}

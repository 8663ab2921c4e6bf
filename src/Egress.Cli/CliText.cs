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

    /// <summary><paramref name="text"/> safe for one line (<see cref="Egress.Policy.SafeText.Line"/>).</summary>
    public static string Clean(string text) => Egress.Policy.SafeText.Line(text);

    /// <summary>Like <see cref="Clean"/>, and bounded to <paramref name="max"/> characters.</summary>
    public static string Bounded(string text, int max = 200)
        => Clean(text.Length > max ? text[..max] + "…" : text);
}

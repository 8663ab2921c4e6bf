using Egress.Policy;

namespace Egress.Http;

/// <summary>
/// Fail-fast checks for startup, like the seed's <c>require_openai_allowed</c>: decide a configured base URL
/// before the first request, so a missing allowlist entry stops the program at launch rather than mid-run.
/// </summary>
public static class EgressStartupCheck
{
    /// <summary>The seed's default: the OpenAI API base URL variable.</summary>
    public const string OpenAIBaseUrlVariable = "OPENAI_BASE_URL";

    /// <summary>The OpenAI API's default base URL.</summary>
    public const string OpenAIDefaultUrl = "https://api.openai.com";

    /// <summary>
    /// Decides the URL in <paramref name="baseUrlEnvVar"/> (or <paramref name="defaultUrl"/> when unset or
    /// blank), records the event (<c>source=http</c>) and throws when it is denied.
    /// </summary>
    /// <param name="baseUrlEnvVar">Environment variable holding the base URL.</param>
    /// <param name="defaultUrl">URL used when the variable is unset.</param>
    /// <param name="policy">Policy; the shared one when null.</param>
    /// <param name="environment">Variable lookup; the process environment when null.</param>
    /// <returns>The decision (allowed, or an audit-mode would-be denial).</returns>
    /// <exception cref="EgressDeniedException">The policy denies the URL.</exception>
    public static EgressDecision RequireAllowed(
        string baseUrlEnvVar = OpenAIBaseUrlVariable,
        string defaultUrl = OpenAIDefaultUrl,
        EgressPolicy? policy = null,
        Func<string, string?>? environment = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(baseUrlEnvVar);
        string? configured = (environment ?? Environment.GetEnvironmentVariable)(baseUrlEnvVar);
        return RequireAllowedUrl(string.IsNullOrWhiteSpace(configured) ? defaultUrl : configured, policy);
    }

    /// <summary>Decides <paramref name="url"/>, records the event and throws when it is denied.</summary>
    /// <exception cref="EgressDeniedException">The policy denies the URL.</exception>
    public static EgressDecision RequireAllowedUrl(string url, EgressPolicy? policy = null)
    {
        var p = policy ?? EgressPolicy.Shared;
        var decision = p.Evaluate(url, EgressHttp.Context);
        if (EgressHttp.Refusal(p, decision) is { } denied)
        {
            throw denied;
        }

        return decision;
    }
}

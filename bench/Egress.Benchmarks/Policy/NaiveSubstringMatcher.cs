namespace Egress.Benchmarks.Policy;

/// <summary>
/// The seed's Python semantics for comparison: <c>any(token in host for token in allowlist)</c>, a linear
/// substring loop over the tokens.
/// </summary>
public sealed class NaiveSubstringMatcher(IReadOnlyList<string> tokens)
{
    private readonly string[] _tokens = [.. tokens];

    /// <summary>The first token contained in <paramref name="host"/>, or <see langword="null"/>.</summary>
    public string? Match(string host)
    {
        foreach (string token in _tokens)
        {
            if (host.Contains(token, StringComparison.Ordinal))
            {
                return token;
            }
        }

        return null;
    }
}

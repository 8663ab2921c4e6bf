using System.Collections.Immutable;

namespace Egress.Policy.Tokens;

/// <summary>
/// The one way a whole list of tokens (<c>EGRESS_ALLOWLIST</c>, a lock file, a policy file) becomes the
/// tokens that match: each is parsed with the token grammar, and then the list as a whole is checked —
/// IP/CIDR tokens that together cover an address family (<c>0.0.0.0/1</c> + <c>128.0.0.0/1</c>) are rejected
/// like a single <c>/0</c>. Rejected tokens take no part (the policy only narrows) and are reported.
/// </summary>
public static class AllowlistTokens
{
    /// <summary>Parses <paramref name="texts"/>: the usable tokens, in order, and what was rejected and why.</summary>
    public static ImmutableArray<EgressToken> Parse(IEnumerable<string> texts, out ImmutableArray<TokenError> errors)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var tokens = new List<EgressToken>();
        var rejected = ImmutableArray.CreateBuilder<TokenError>();
        foreach (var text in texts)
        {
            if (EgressToken.TryParse(text, out var token, out var error))
            {
                tokens.Add(token!);
            }
            else
            {
                rejected.Add(new TokenError(text, error!));
            }
        }

        NetworkCoverage.RejectWholeFamily(tokens, rejected); // 0.0.0.0/1 + 128.0.0.0/1 is a /0 too
        errors = rejected.ToImmutable();
        return [.. tokens];
    }
}

using Egress.Policy.Configuration;
using Egress.Policy.Tokens;

namespace Egress.Policy.Verification.Rules;

/// <summary>
/// Rule 3: every allowlist token parses and none is a wildcard; keyword tokens are warned about; every lock
/// file line is a token too.
/// </summary>
internal sealed class TokenRule : IVerificationRule
{
    public void Check(VerificationContext context)
    {
        foreach (var error in context.Policy.TokenErrors)
        {
            var message = EgressToken.IsWildcard(error.Token)
                ? $"{EgressEnvironment.Allowlist} contains wildcard token '{EgressOptionsReader.Printable(error.Token)}', which is prohibited"
                : $"{EgressEnvironment.Allowlist}: {error.Message}";
            context.Fail(3, VerificationCategory.Validation, message);
        }

        foreach (var token in context.Policy.Matcher.Tokens)
        {
            if (token.Kind == EgressTokenKind.Keyword)
            {
                context.Warn(3, VerificationCategory.Validation,
                    $"keyword token '{token.Text}' matches any host containing it, e.g. '{token.Text}.attacker.example'; prefer a domain token such as '{token.Text}.com' or an exact host '=api.{token.Text}.com'");
            }
        }

        // Every invalid line of the lock file (for a policy file with [role] sections too: LockFileRead reads them all).
        if (context.Lock is { Path: { } path, Content: { } content })
        {
            foreach (var problem in content.Problems)
            {
                context.Fail(3, VerificationCategory.Validation, problem.Describe(path));
            }
        }
    }
}

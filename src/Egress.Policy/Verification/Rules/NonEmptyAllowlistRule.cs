using Egress.Policy.Configuration;

namespace Egress.Policy.Verification.Rules;

/// <summary>Rule 2: the allowlist is not empty.</summary>
internal sealed class NonEmptyAllowlistRule : IVerificationRule
{
    public void Check(VerificationContext context)
    {
        if (context.Options.Allowlist.IsEmpty)
        {
            context.Fail(2, VerificationCategory.Validation, $"{EgressEnvironment.Allowlist} is empty: every destination is denied");
        }
    }
}

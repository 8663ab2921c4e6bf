using Egress.Policy.Configuration;

namespace Egress.Policy.Verification.Rules;

/// <summary>Rule 1: enforcement is on, unless <c>EGRESS_CI_ALLOW_DISABLE=1</c> permits audit mode.</summary>
internal sealed class EnforcementRule : IVerificationRule
{
    public void Check(VerificationContext context)
    {
        if (!context.Options.Enforce && !context.Options.CiAllowDisable)
        {
            context.Fail(1, VerificationCategory.Validation,
                $"{EgressEnvironment.Enforce}=0 disables enforcement; set {EgressEnvironment.CiAllowDisable}=1 to permit audit mode in CI");
        }
    }
}

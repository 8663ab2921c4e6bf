namespace Egress.Policy.Verification.Rules;

/// <summary>Rule 0: what the configuration reader warned about (never changes the exit code).</summary>
internal sealed class ConfigurationWarningsRule : IVerificationRule
{
    public void Check(VerificationContext context)
    {
        foreach (var warning in context.Options.Warnings)
        {
            context.Warn(0, VerificationCategory.Validation, warning.ToString());
        }
    }
}

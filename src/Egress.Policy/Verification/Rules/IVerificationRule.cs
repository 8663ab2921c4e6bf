namespace Egress.Policy.Verification.Rules;

/// <summary>
/// One rule of <c>--verify</c>. <see cref="PolicyVerifier"/> runs every rule in a fixed order against one
/// <see cref="VerificationContext"/>; a rule adds findings to it and never throws for bad input.
/// </summary>
internal interface IVerificationRule
{
    /// <summary>Checks the rule and adds its errors and warnings to <paramref name="context"/>.</summary>
    void Check(VerificationContext context);
}

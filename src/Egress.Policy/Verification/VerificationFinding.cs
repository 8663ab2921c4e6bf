namespace Egress.Policy.Verification;

/// <summary>One error or warning of a verification.</summary>
/// <param name="Rule">SPEC §5 rule number (1–5), or 0 for general findings.</param>
/// <param name="Category">The category the finding belongs to.</param>
/// <param name="Message">What is wrong and how to fix it.</param>
public sealed record VerificationFinding(int Rule, VerificationCategory Category, string Message);

namespace Egress.Policy;

/// <summary>An allowlist token that could not be used.</summary>
/// <param name="Token">The token as written.</param>
/// <param name="Message">Why it was rejected.</param>
public sealed record TokenError(string Token, string Message);

namespace Egress.Policy.Locking;

/// <summary>A lock file line that is not a valid token (or is a wildcard).</summary>
/// <param name="Line">1-based line number.</param>
/// <param name="Token">The token as written, control characters escaped.</param>
/// <param name="Message">Why it is rejected (the token grammar's message).</param>
/// <param name="IsWildcard">Whether the line is a wildcard (<c>*</c>, <c>all</c>, a /0 network).</param>
public sealed record LockFileProblem(int Line, string Token, string Message, bool IsWildcard)
{
    /// <summary>The problem as one line naming the file: <c>lock file PATH line N: MESSAGE</c>.</summary>
    public string Describe(string path) => $"lock file {path} line {Line}: {Message}";
}

namespace Egress.Cli.Commands;

/// <summary>One destination's decision as <c>check --json</c> prints it.</summary>
internal sealed record CheckResult(
    string Input,
    bool Allowed,
    string Action,
    string Reason,
    string? MatchedToken,
    string? DestinationHost,
    int Port,
    bool WouldDeny,
    string? Suggestion);

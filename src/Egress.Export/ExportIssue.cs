namespace Egress.Export;

/// <summary>A token a target cannot express exactly, and why.</summary>
/// <param name="Token">The token as written in the lock.</param>
/// <param name="Reason">Why the target cannot express it.</param>
public sealed record ExportIssue(string Token, string Reason)
{
    /// <inheritdoc />
    public override string ToString() => $"'{Token}': {Reason}";
}

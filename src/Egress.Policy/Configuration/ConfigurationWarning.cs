namespace Egress.Policy.Configuration;

/// <summary>A configuration value that could not be used as given; the policy kept its safe default.</summary>
/// <param name="Variable">The environment variable (or file) at fault.</param>
/// <param name="Message">What was wrong and what was used instead.</param>
public sealed record ConfigurationWarning(string Variable, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{Variable}: {Message}";
}

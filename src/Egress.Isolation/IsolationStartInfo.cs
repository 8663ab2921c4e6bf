namespace Egress.Isolation;

/// <summary>What to run isolated and how.</summary>
public sealed record IsolationStartInfo
{
    /// <summary>The command and its arguments.</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>
    /// How to start this program again as the agent (e.g. <c>[/usr/bin/egress-policy]</c> or
    /// <c>[dotnet, /path/egress-policy.dll]</c>); see <see cref="IsolatedProcess.SelfCommand"/>.
    /// </summary>
    public required IReadOnlyList<string> AgentCommand { get; init; }

    /// <summary>Working directory of the command.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Environment variables to remove from the command's environment (secrets of run itself, the journal path).</summary>
    public IReadOnlyList<string> RemovedVariables { get; init; } = [];

    /// <summary>
    /// Files the command must not modify (journal, summary): read-only inside its mount namespace. Each must exist.
    /// The runner's command files (<see cref="RunnerCommandFiles"/>) are added to these by <see cref="IsolatedProcess.StartAsync"/>.
    /// </summary>
    public IReadOnlyList<string> ReadOnlyPaths { get; init; } = [];

    /// <summary>How long the agent may take to set up the namespace before run gives up.</summary>
    public TimeSpan SetupTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

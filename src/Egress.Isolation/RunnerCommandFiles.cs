using Egress.Policy.Configuration;

namespace Egress.Isolation;

/// <summary>
/// The files a CI runner reads back after the step (GitHub Actions: <c>GITHUB_STEP_SUMMARY</c>,
/// <c>GITHUB_OUTPUT</c>, <c>GITHUB_ENV</c>, <c>GITHUB_PATH</c>, <c>GITHUB_STATE</c>). A command that could write
/// them could forge the job summary ("Policy verification PASSED"), set outputs a later step trusts, or put
/// variables (<c>LD_PRELOAD</c>, <c>PATH</c>) into later steps, which run outside the isolation. So an isolated
/// <c>run</c> makes them read-only in the command's mount namespace, like the journal: the variables stay set (a
/// write fails with EROFS instead of going to a surprising place), and <c>run</c> itself still writes the summary
/// from outside after the command has exited.
/// </summary>
public static class RunnerCommandFiles
{
    /// <summary>The variables naming the files, in the order they are returned.</summary>
    public static IReadOnlyList<string> Variables { get; } =
    [
        EgressEnvironment.GitHubStepSummary,
        EgressEnvironment.GitHubOutput,
        EgressEnvironment.GitHubEnv,
        EgressEnvironment.GitHubPath,
        EgressEnvironment.GitHubState,
    ];

    /// <summary>
    /// The full paths of the runner's files that <paramref name="environment"/> names and that exist (the runner
    /// creates them before the step starts; a path that does not exist is no file the runner reads), each once.
    /// <see cref="IsolatedProcess.StartAsync"/> adds them (from this process's environment, the one the command
    /// inherits) to <see cref="IsolationStartInfo.ReadOnlyPaths"/> itself.
    /// </summary>
    /// <param name="environment">Reads an environment variable (<c>CliContext.Environment</c>).</param>
    /// <param name="workingDirectory">Resolves a relative path; the current directory when null.</param>
    public static IReadOnlyList<string> ReadOnlyPaths(Func<string, string?> environment, string? workingDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var paths = new List<string>();
        foreach (var name in Variables)
        {
            if (environment(name) is not { Length: > 0 } value)
            {
                continue;
            }

            string full = Path.GetFullPath(value, workingDirectory ?? Environment.CurrentDirectory);
            if (File.Exists(full) && !paths.Contains(full, StringComparer.Ordinal))
            {
                paths.Add(full);
            }
        }

        return paths;
    }
}

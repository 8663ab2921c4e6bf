namespace Egress.Telemetry.Ci;

/// <summary>Identifies the CI job a textfile belongs to: <c>repository</c> and <c>ci_job</c> labels.</summary>
/// <param name="Repository">Repository (<c>GITHUB_REPOSITORY</c>, <c>CI_PROJECT_PATH</c>), empty when unknown.</param>
/// <param name="Job">Workflow and job (<c>GITHUB_WORKFLOW/GITHUB_JOB</c>, <c>CI_JOB_NAME</c>), empty when unknown.</param>
public sealed record CiJobLabels(string Repository, string Job)
{
    /// <summary>Reads the labels from the CI system's variables (GitHub Actions, GitLab CI).</summary>
    public static CiJobLabels From(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string repository = environment("GITHUB_REPOSITORY") ?? environment("CI_PROJECT_PATH") ?? string.Empty;
        string job = environment("GITHUB_JOB") is { Length: > 0 } ghJob
            ? (environment("GITHUB_WORKFLOW") is { Length: > 0 } workflow ? workflow + "/" + ghJob : ghJob)
            : environment("CI_JOB_NAME") ?? string.Empty;
        return new CiJobLabels(repository, job);
    }
}

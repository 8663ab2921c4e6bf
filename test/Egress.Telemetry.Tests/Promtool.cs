using Egress.TestUtils;

namespace Egress.Telemetry.Tests;

/// <summary>Runs Debian's <c>promtool</c> (package <c>prometheus</c>, installed by .ci/run).</summary>
internal static class Promtool
{
    public static string Path => FindOnPath("promtool");

    public static Task<ProcessResult> RunAsync(params string[] args) =>
        ProcessRunner.RunAsync(Path, args, timeout: TimeSpan.FromSeconds(60));

    public static string FindOnPath(string program)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':'))
        {
            var candidate = System.IO.Path.Combine(dir, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{program} not found on PATH; install the Debian package 'prometheus' (.ci/run does)");
    }
}

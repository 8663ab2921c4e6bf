namespace Egress.Fuzz;

/// <summary>Runs saved inputs through a target once each, without afl (crash triage and regressions).</summary>
internal static class Replay
{
    public static int Run(FuzzTarget target, IEnumerable<string> paths)
    {
        int failures = 0, inputs = 0;
        foreach (var file in paths.SelectMany(p => Directory.Exists(p) ? Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories) : [p]))
        {
            if (Path.GetFileName(file) == "README.txt")
            {
                continue;
            }

            inputs++;
            try
            {
                target(File.ReadAllBytes(file));
            }
#pragma warning disable CA1031 // every escaping exception is a finding to report
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failures++;
                Console.Error.WriteLine($"{file}: {ex.GetType().Name}: {ex.Message}");
            }
        }

        Console.WriteLine($"{inputs} input(s), {failures} failure(s)");
        return failures == 0 ? 0 : 1;
    }
}

namespace Egress.Telemetry.Tests;

/// <summary>Finds files of the repository (deploy/, docs/) from the test output folder.</summary>
internal static class RepositoryRoot
{
    public static string Path { get; } = Find();

    public static string File(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !System.IO.File.Exists(System.IO.Path.Combine(dir.FullName, "EgressPolicy.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new DirectoryNotFoundException("EgressPolicy.slnx not found above " + AppContext.BaseDirectory);
    }
}

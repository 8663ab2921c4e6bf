namespace Egress.Governance.Tests;

/// <summary>Finds files of the repository under test (the directory holding EgressPolicy.slnx).</summary>
internal static class RepositoryFiles
{
    private static readonly Lazy<string> LazyRoot = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EgressPolicy.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("EgressPolicy.slnx not found above " + AppContext.BaseDirectory);
    });

    /// <summary>The repository root.</summary>
    public static string Root => LazyRoot.Value;

    /// <summary>Full path of a repository-relative path (forward slashes).</summary>
    public static string PathOf(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>Text of a repository file.</summary>
    public static string Read(string relative) => File.ReadAllText(PathOf(relative));

    /// <summary>True when the file or directory exists.</summary>
    public static bool Exists(string relative) => File.Exists(PathOf(relative)) || Directory.Exists(PathOf(relative.TrimEnd('/')));
}

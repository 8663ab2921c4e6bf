using Egress.TestUtils;

namespace Egress.Cli.Tests.Docs;

/// <summary>
/// Runs the shell blocks of README.md and docs/ that are marked <c>&lt;!-- doctest --&gt;</c>, and checks the
/// output shown after them. The convention, for anyone writing docs (full text: docs/CONTRIBUTING.md):
/// <list type="bullet">
/// <item><c>&lt;!-- doctest --&gt;</c> on the line directly above a <c>```bash</c> fence: the block is run by
/// <c>bash -e -o pipefail</c> in a new empty directory, with <c>egress-policy</c> on <c>PATH</c> (the build under
/// test) and no <c>EGRESS_*</c>, <c>CI</c> or <c>GITHUB_*</c> variable set. It must exit 0, or N with
/// <c>&lt;!-- doctest exit=N --&gt;</c>. Keep it offline (loopback only), self-contained and fast.</item>
/// <item><c>&lt;!-- doctest-output --&gt;</c> directly above the next fence after it (only blank lines between):
/// that block is what the commands print, stdout and stderr together, every line. A line <c>…</c> stands for any
/// number of lines, <c>…</c> inside a line for any text.</item>
/// <item><c>&lt;!-- not-doctest: reason --&gt;</c>: the block cannot run offline (needs a network, a CI runner,
/// the whole test suite…). Every shell block of README.md and docs/ carries one of the two.</item>
/// </list>
/// </summary>
public sealed class DocTests
{
    public static TheoryData<string> Doctests()
    {
        var data = new TheoryData<string>();
        foreach (var block in AllBlocks().Where(b => b.IsDoctest))
        {
            data.Add(block.ToString());
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Doctests))]
    public async Task DocumentedCommands_RunAndPrintWhatTheDocsShow(string where)
    {
        var block = AllBlocks().Single(b => b.ToString() == where);
        using var dir = new TempDirectory();
        var bin = Directory.CreateDirectory(Path.Combine(dir.Path, ".bin")).FullName;
        var work = Directory.CreateDirectory(Path.Combine(dir.Path, "work")).FullName;
        var wrapper = Path.Combine(bin, "egress-policy");
        File.WriteAllText(wrapper, $"#!/bin/sh\nexec dotnet '{Path.Combine(AppContext.BaseDirectory, "egress-policy.dll")}' \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        // The repository's top-level folders (not files: a block writes its own policy_allowlist.lock) are linked
        // in, so a block may call a script such as eng/fuzz.sh.
        foreach (var entry in new DirectoryInfo(RepoRoot).EnumerateDirectories().Where(e => !e.Name.StartsWith('.')))
        {
            File.CreateSymbolicLink(Path.Combine(work, entry.Name), entry.FullName);
        }

        var env = new Dictionary<string, string?> { ["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH") };

        // One stream, as a terminal shows it: stderr lines stay where they were printed.
        var run = await ProcessRunner.RunAsync("bash", ["-e", "-o", "pipefail", "-c", "exec 2>&1\n" + block.Script], env, work, TimeSpan.FromSeconds(90));

        Assert.True(run.ExitCode == block.ExpectedExit,
            $"{where}: the block exited {run.ExitCode}, the docs expect {block.ExpectedExit}. Output:\n{run.StdOut}");
        if (block.ExpectedOutput is { } expected)
        {
            Assert.True(OutputPattern.Matches(expected, run.StdOut),
                $"{where}: the output no longer matches the docs.\n--- shown in the docs\n{expected}\n--- printed\n{run.StdOut}");
        }
    }

    [Fact]
    public void Docs_HaveRunnableBlocks_AndEveryShellBlockSaysWhetherItRuns()
    {
        var blocks = AllBlocks();
        Assert.Contains(blocks, b => b.File == "README.md" && b.IsDoctest && b.ExpectedOutput is not null);
        Assert.Contains(blocks, b => b.File == "docs/proxy.md" && b.IsDoctest && b.ExpectedOutput is not null);
        // Every file, so that a new page is held to it from its first block.
        var unmarked = blocks.Where(b => !b.IsDoctest && !b.IsOptedOut).Select(b => b.ToString()).ToList();
        Assert.True(unmarked.Count == 0, "shell blocks without <!-- doctest --> or <!-- not-doctest: reason -->: " + string.Join(", ", unmarked));
    }

    [Fact]
    public void Docs_ShowNoInternalSectionReferences()
    {
        var offenders = MarkdownFiles().Where(f => File.ReadAllText(Path.Combine(RepoRoot, f)).Contains("SPEC §", StringComparison.Ordinal)).ToList();
        Assert.True(offenders.Count == 0, "user docs cite the unshipped SPEC: " + string.Join(", ", offenders));
    }

    internal static string RepoRoot { get; } = FindRoot();

    private static List<DocBlock> AllBlocks()
        => [.. MarkdownFiles().SelectMany(f => DocBlocks.Parse(f, File.ReadAllText(Path.Combine(RepoRoot, f))))];

    private static IEnumerable<string> MarkdownFiles()
    {
        yield return "README.md";
        foreach (var path in Directory.EnumerateFiles(Path.Combine(RepoRoot, "docs"), "*.md", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            yield return Path.GetRelativePath(RepoRoot, path).Replace(Path.DirectorySeparatorChar, '/');
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EgressPolicy.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("EgressPolicy.slnx not found above " + AppContext.BaseDirectory);
    }
}

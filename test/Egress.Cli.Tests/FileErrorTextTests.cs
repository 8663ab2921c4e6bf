namespace Egress.Cli.Tests;

/// <summary>
/// File errors of <c>lock</c>, <c>lock --from-events</c>, <c>--verify</c> and <c>--summary-out</c>, word for
/// word: the file is named once, with what it is for and the reason ("cannot read lock file: lock file …"
/// repeated itself).
/// </summary>
public sealed class FileErrorTextTests : IDisposable
{
    private static readonly (string, string?)[] Allow = [("EGRESS_ALLOWLIST", "openai.com")];
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task LockDiff_MissingDirectoryAndLink_SayWhatTheFileIsOnce()
    {
        string dir = Directory.CreateDirectory(_cli.File("a-dir")).FullName;
        string missing = _cli.File("missing.lock");
        string link = _cli.File("link.lock");
        File.CreateSymbolicLink(link, missing);

        var onMissing = await _cli.RunAsync(Allow, "lock", "--diff", "--file", missing);
        var onDir = await _cli.RunAsync(Allow, "lock", "--diff", "--file", dir);
        var onLink = await _cli.RunAsync(Allow, "lock", "--diff", "--file", link);

        Assert.Equal(2, onMissing.ExitCode);
        Assert.Equal($"egress-policy: cannot read lock file {missing}: it does not exist\n", onMissing.Error.ReplaceLineEndings("\n"));
        Assert.Equal($"egress-policy: cannot read lock file {dir}: it is a directory, not a regular file; point lock file at a regular file\n", onDir.Error.ReplaceLineEndings("\n"));
        Assert.Equal($"egress-policy: cannot read lock file {link}: it is a symbolic link, which is not followed; point lock file at the file itself\n", onLink.Error.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task LockWrite_IntoADirectory_NamesTheLockFileOnce()
    {
        string dir = Directory.CreateDirectory(_cli.File("a-dir")).FullName;

        var run = await _cli.RunAsync(Allow, "lock", "--file", dir);

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith($"egress-policy: cannot write lock file {dir}: ", run.Error, StringComparison.Ordinal);
        Assert.Equal(1, Count(run.Error, dir));
    }

    [Fact]
    public async Task LockFromEvents_MissingAndForeignFiles_NameTheFileOnce()
    {
        string missing = _cli.File("nope.jsonl");
        string garbage = _cli.File("garbage.jsonl");
        File.WriteAllText(garbage, "not json\n");

        var onMissing = await _cli.RunAsync(Allow, "lock", "--from-events", missing);
        var onGarbage = await _cli.RunAsync(Allow, "lock", "--from-events", garbage);

        Assert.Equal(1, onMissing.ExitCode);
        Assert.Equal($"egress-policy: cannot learn from --from-events file {missing}: no such file\n", onMissing.Error.ReplaceLineEndings("\n"));
        Assert.Equal($"egress-policy: cannot learn from --from-events file {garbage}: it is neither an egress journal (JSON lines) nor an egress-summary.json\n", onGarbage.Error.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Verify_UnreadableLockAndJournal_NameEachFileOnce()
    {
        string dir = Directory.CreateDirectory(_cli.File("a-dir")).FullName;

        var run = await _cli.RunAsync([.. Allow, ("CI", "true"), ("EGRESS_LOCK_FILE", dir), ("EGRESS_EVENTS_FILE", dir)], "--verify");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains($"  - cannot read lock file {dir}: it is a directory, not a regular file; point lock file at a regular file\n", run.Out.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains($"  - cannot read EGRESS_EVENTS_FILE {dir}: it is a directory, not a regular file\n", run.Out.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.DoesNotContain("lock file: lock file", run.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SummaryOut_IntoADirectory_NamesTheSummaryOnce()
    {
        string dir = Directory.CreateDirectory(_cli.File("a-dir")).FullName;

        var run = await _cli.RunAsync(Allow, "--summary-out", dir);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"egress-policy: cannot write summary {dir}: ", run.Error, StringComparison.Ordinal);
        Assert.Equal(1, Count(run.Error, dir));
    }

    [Fact]
    public async Task ExportOutput_UnderARegularFile_NamesTheFileOnce()
    {
        _cli.WriteLock("example.com");
        File.WriteAllText(_cli.File("a-file"), "x");
        string target = _cli.File("a-file/squid.conf");

        var run = await _cli.RunAsync(Allow, "export", "--format", "squid", "--output", target);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"egress-policy export: cannot write --output file {target}: ", run.Error, StringComparison.Ordinal);
        Assert.Equal(1, Count(run.Error, target));
    }

    private static int Count(string text, string part)
    {
        int count = 0;
        for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}

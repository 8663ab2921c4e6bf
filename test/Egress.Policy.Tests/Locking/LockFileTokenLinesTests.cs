using Egress.Policy.Locking;
using Egress.TestUtils;

namespace Egress.Policy.Tests.Locking;

/// <summary>Every non-comment lock line is parsed with the token grammar; lock files are regular files.</summary>
public sealed class LockFileTokenLinesTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void ParseContent_NamesInvalidAndWildcardLinesWithTheirNumbers()
    {
        var content = LockFile.ParseContent("# header\nopenai.com\n\n*   # everything\n10.0.0.0/99\r\n=api.example.com:443\n0.0.0.0/000:80\ngithub.io\n");

        Assert.Equal(
            [(4, "*", true), (5, "10.0.0.0/99", false), (7, "0.0.0.0/000:80", true), (8, "github.io", false)],
            content.Problems.Select(p => (p.Line, p.Token, p.IsWildcard)));
        Assert.Contains("github.io", content.Tokens); // still a token for the drift comparison
        Assert.Equal("lock file /x line 4: wildcard token '*' is prohibited", content.Problems[0].Describe("/x"));
        Assert.Contains("public suffix", content.Problems[3].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseContent_ControlCharacters_AreShownEscaped()
    {
        var problem = Assert.Single(LockFile.ParseContent("ok.example\nevil\u0007.example\n").Problems);

        Assert.Equal(2, problem.Line);
        Assert.Equal("evil\\u0007.example", problem.Token);
        Assert.DoesNotContain('\u0007', problem.Message);
    }

    [Fact]
    public void ParseContent_ValidLockFile_HasNoProblems()
        => Assert.Empty(LockFile.ParseContent("# c\nopenai.com\n=api.example.com:8443\n10.0.0.0/8\n[::1]:8080\nlocalhost:3000\n").Problems);

    [Fact]
    public async Task Load_OfAFifo_FailsAtOnceNamingThePath()
    {
        var path = SpecialFiles.MakeFifo(_dir.File("policy_allowlist.lock"));

        var task = Task.Run(() => LockFile.Load(path));
        Assert.Same(task, await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(20))));
        var error = await Assert.ThrowsAsync<IOException>(() => task);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("FIFO", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_OfASymlink_IsRefused()
    {
        var real = _dir.File("real.lock");
        File.WriteAllText(real, "openai.com\n");
        var link = _dir.File("policy_allowlist.lock");
        File.CreateSymbolicLink(link, real);

        Assert.Contains("symbolic link", Assert.Throws<IOException>(() => LockFile.Load(link)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_WithAByteOrderMark_ReadsTheFirstToken()
    {
        var path = _dir.File("policy_allowlist.lock");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. "openai.com\n"u8]);

        var content = LockFile.Load(path);

        Assert.Equal(["openai.com"], content.Tokens);
        Assert.Empty(content.Problems);
    }

    [Fact]
    public void Load_LargerThanTheLimit_IsAnErrorNamingTheFile()
    {
        var path = _dir.File("big.lock");
        File.WriteAllText(path, new string('#', (int)LockFile.MaxBytes + 10));

        Assert.Contains(path, Assert.Throws<IOException>(() => LockFile.Load(path)).Message, StringComparison.Ordinal);
    }
}

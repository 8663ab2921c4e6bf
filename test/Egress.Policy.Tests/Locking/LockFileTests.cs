using Egress.Policy.Configuration;
using Egress.Policy.Locking;
using Egress.TestUtils;

namespace Egress.Policy.Tests.Locking;

public sealed class LockFileTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Create(string relative, string content = "openai.com\n")
    {
        var path = Path.Combine(_dir.Path, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void Discover_ExplicitVariable_WinsOverBothFiles()
    {
        Create("policy_allowlist.lock");
        Create("core_modules/network/policy_allowlist.lock");
        var explicitPath = Create("custom/my.lock");

        var (path, isExplicit) = LockFile.Discover(new EgressOptions { LockFile = explicitPath }, _dir.Path);

        Assert.Equal(explicitPath, path);
        Assert.True(isExplicit);
    }

    [Fact]
    public void Discover_ExplicitRelativePath_IsResolvedAgainstTheWorkingDirectory()
    {
        var (path, _) = LockFile.Discover(new EgressOptions { LockFile = "custom/my.lock" }, _dir.Path);
        Assert.Equal(Path.Combine(_dir.Path, "custom", "my.lock"), path);
    }

    [Fact]
    public void Discover_ExplicitButMissing_IsStillReturnedSoTheErrorNamesIt()
    {
        Create("policy_allowlist.lock");
        var (path, isExplicit) = LockFile.Discover(new EgressOptions { LockFile = _dir.File("missing.lock") }, _dir.Path);

        Assert.Equal(_dir.File("missing.lock"), path);
        Assert.True(isExplicit);
    }

    [Fact]
    public void Discover_RootFile_WinsOverSeedLocation()
    {
        var root = Create("policy_allowlist.lock");
        Create("core_modules/network/policy_allowlist.lock");

        Assert.Equal((root, false), LockFile.Discover(new EgressOptions(), _dir.Path));
    }

    [Fact]
    public void Discover_SeedLocation_IsTheLastResort()
    {
        var seed = Create("core_modules/network/policy_allowlist.lock");
        Assert.Equal((seed, false), LockFile.Discover(new EgressOptions(), _dir.Path));
    }

    [Fact]
    public void Discover_Nothing_ReturnsNull()
        => Assert.Equal((null, false), LockFile.Discover(new EgressOptions(), _dir.Path));

    [Fact]
    public void Discover_DirectoryNamedLikeTheLockFile_IsNotALockFile()
    {
        Directory.CreateDirectory(_dir.File("policy_allowlist.lock"));
        var seed = Create("core_modules/network/policy_allowlist.lock");
        Assert.Equal((seed, false), LockFile.Discover(new EgressOptions(), _dir.Path));
    }

    [Fact]
    public void Parse_CommentsBlanksCaseAndOrder()
    {
        var tokens = LockFile.Parse("# Egress Policy Allowlist Lock\n\n  OpenAI.com  \r\n=API.example.com # inline\n#openai\n10.0.0.0/8\n\n");
        Assert.Equal(["10.0.0.0/8", "=api.example.com", "openai.com"], tokens);
    }

    [Fact]
    public void RenderThenParse_RoundTripsWithTheReviewHeader()
    {
        var text = LockFile.Render(["openai.com", "=api.example.com", "OPENAI.COM", " 10.0.0.0/8 "]);

        Assert.StartsWith("# Egress Policy Allowlist Lock\n", text, StringComparison.Ordinal);
        Assert.Contains("CODEOWNERS", text, StringComparison.Ordinal);
        Assert.Equal(["10.0.0.0/8", "=api.example.com", "openai.com"], LockFile.Parse(text));
    }

    [Fact]
    public void Write_IsAtomicAndLeavesNoTemporaryFiles()
    {
        var path = _dir.File("policy_allowlist.lock");
        File.WriteAllText(path, new string('x', 100_000));

        LockFile.Write(path, ["openai.com"]);

        Assert.Equal(["openai.com"], LockFile.Read(path));
        Assert.Equal([path], Directory.GetFiles(_dir.Path));
    }

    [Fact]
    public void Diff_ReportsBothDirectionsCaseInsensitively()
    {
        var (added, removed) = LockFile.Diff(["a.com", "B.com"], ["b.com", "c.com"]);
        Assert.Equal(new[] { "a.com" }, added.ToArray());
        Assert.Equal(new[] { "c.com" }, removed.ToArray());
    }

    [Fact]
    public void Read_MissingOrOversized_ThrowsIOExceptionNamingTheFile()
    {
        var missing = Assert.ThrowsAny<IOException>(() => LockFile.Read(_dir.File("nope.lock")));
        Assert.Contains("nope.lock", missing.Message, StringComparison.Ordinal);

        var big = _dir.File("big.lock");
        using (var fs = File.Create(big))
        {
            fs.SetLength(LockFile.MaxBytes + 1);
        }

        Assert.ThrowsAny<IOException>(() => LockFile.Read(big));
    }
}

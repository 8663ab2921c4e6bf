namespace Egress.Cli.Tests.Docs;

/// <summary>The doctest convention itself: which blocks are found, and when shown output holds.</summary>
public sealed class DocBlocksTests
{
    private const string Sample = """
        Intro.

        <!-- doctest exit=1 -->
        ```bash
        egress-policy check evil.example
        ```

        <!-- doctest-output -->
        ```text
        DENY  evil.example  not in allowlist
        ```

        <!-- not-doctest: needs a network -->
        ```sh
        curl https://example.com/
        ```

        ```bash
        echo unmarked
        ```

        ```csharp
        var notShell = 1;
        ```
        """;

    [Fact]
    public void Parse_FindsShellBlocksTheirMarkersAndShownOutput()
    {
        var blocks = DocBlocks.Parse("x.md", Sample);

        Assert.Equal(3, blocks.Count);
        Assert.True(blocks[0].IsDoctest);
        Assert.Equal(1, blocks[0].ExpectedExit);
        Assert.Equal("egress-policy check evil.example", blocks[0].Script);
        Assert.Equal("DENY  evil.example  not in allowlist", blocks[0].ExpectedOutput);
        Assert.Equal(4, blocks[0].Line);
        Assert.True(blocks[1].IsOptedOut);
        Assert.False(blocks[1].IsDoctest);
        Assert.Null(blocks[1].ExpectedOutput);
        Assert.Null(blocks[2].Marker);
        Assert.Equal(0, blocks[2].ExpectedExit);
    }

    [Fact]
    public void Parse_OptOutWithoutAReason_DoesNotCount()
    {
        var block = Assert.Single(DocBlocks.Parse("x.md", "<!-- not-doctest: -->\n```bash\ntrue\n```\n"));

        Assert.False(block.IsOptedOut);
    }

    [Fact]
    public void Parse_LongerFence_ShowsAShellBlockWithoutRunningIt()
    {
        var blocks = DocBlocks.Parse("x.md", "````markdown\n<!-- doctest -->\n```bash\nrm -rf /\n```\n````\n");

        Assert.Empty(blocks);
    }

    [Fact]
    public void Parse_UnclosedFence_IsAnError()
        => Assert.Throws<FormatException>(() => DocBlocks.Parse("x.md", "```bash\ntrue\n"));

    [Theory]
    [InlineData("a\nb", "a\nb\n\n", true)]
    [InlineData("a\nb", "a\nc", false)]
    [InlineData("a\nb", "a", false)]
    [InlineData("a", "a\nb", false)]
    [InlineData("a\n…\nd", "a\nb\nc\nd", true)]
    [InlineData("a\n…\nd", "a\nd", true)]
    [InlineData("a\n…\nd", "a\nb\nc", false)]
    [InlineData("wrote …/x.lock (2 token(s))", "wrote /tmp/t/x.lock (2 token(s))", true)]
    [InlineData("wrote …/x.lock (2 token(s))", "wrote /tmp/t/x.lock (3 token(s))", false)]
    [InlineData("a.b", "axb", false)]
    [InlineData("…", "", true)]
    public void OutputPattern_MatchesEveryLineWithEllipsisAsTheOnlyWildcard(string shown, string printed, bool matches)
        => Assert.Equal(matches, OutputPattern.Matches(shown, printed));
}

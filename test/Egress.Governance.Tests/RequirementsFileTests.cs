using CsCheck;
using Egress.Cli.Governance;
using Egress.TestUtils;

namespace Egress.Governance.Tests;

public class RequirementsFileTests
{
    [Fact]
    public void Parse_SeedFormat_ReadsFloorsCommentsAndBlanks()
    {
        var floors = RequirementsFile.Parse("# security tooling\n\nCycloneDX>=6.3.1\n  SecurityCodeScan.VS2019 >= 5.6.7   # analyzer\r\nfoo_bar-baz>=1.0.0-rc.1\n", "floors.txt");

        Assert.Collection(
            floors,
            f => { Assert.Equal("CycloneDX", f.Name); Assert.Equal("6.3.1", f.Minimum.Text); Assert.Equal(3, f.Line); },
            f => { Assert.Equal("SecurityCodeScan.VS2019", f.Name); Assert.Equal("5.6.7", f.Minimum.Text); Assert.Equal(4, f.Line); },
            f => { Assert.Equal("foo_bar-baz", f.Name); Assert.True(f.Minimum.IsPreRelease); Assert.Equal(5, f.Line); });
        Assert.All(floors, f => Assert.Equal("floors.txt", f.File));
    }

    [Theory]
    [InlineData("cyclonedx==6.3.1", "only '>=' floors")]
    [InlineData("cyclonedx>6.3.1", "only '>=' floors")]
    [InlineData("cyclonedx<=6.3.1", "only '>=' floors")]
    [InlineData("cyclonedx", "only '>=' floors")]
    [InlineData("cyclonedx~=6.3", "only '>=' floors")]
    [InlineData(">=6.3.1", "is not a package or tool id")]
    [InlineData("pip-audit[toml]>=2.6", "is not a package or tool id")]
    [InlineData("bandit>=1.7; python_version>'3'", "is not a version")]
    [InlineData("bandit>=1.7,<2", "is not a version")]
    [InlineData("bandit>=", "has no version")]
    [InlineData("bandit>=latest", "is not a version")]
    [InlineData("bandit>=1.*", "is not a version")]
    [InlineData("bandit>=>=1.0", "is not a version")]
    [InlineData("bad name>=1.0", "is not a package or tool id")]
    [InlineData(".hidden>=1.0", "is not a package or tool id")]
    public void Parse_MalformedLine_FailsClosedNamingFileAndLine(string line, string reason)
    {
        var ex = Assert.Throws<GovernanceInputException>(() => RequirementsFile.Parse($"# header\nok.tool>=1.0\n{line}\n", "eng/floors.txt"));

        Assert.Equal("eng/floors.txt", ex.File);
        Assert.Equal(3, ex.Line);
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("eng/floors.txt:3: ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DuplicateName_FailsNamingBothLines()
    {
        var ex = Assert.Throws<GovernanceInputException>(() => RequirementsFile.Parse("CycloneDX>=6.3.1\ncyclonedx>=1.0\n", "f.txt"));

        Assert.Equal(2, ex.Line);
        Assert.Contains("line 1", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only comments\n\n   \n")]
    public void Parse_NoFloors_FailsBecauseItWouldVerifyNothing(string text)
    {
        var ex = Assert.Throws<GovernanceInputException>(() => RequirementsFile.Parse(text, "f.txt"));
        Assert.Null(ex.Line);
    }

    [Fact]
    public void Read_MissingFile_FailsNamingIt()
    {
        using var dir = new TempDirectory();
        var ex = Assert.Throws<GovernanceInputException>(() => RequirementsFile.Read(dir.File("nope.txt"), "nope.txt"));
        Assert.Equal("nope.txt", ex.File);
    }

    [Fact]
    public void Read_InvalidUtf8_Fails()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("f.txt"), [(byte)'a', (byte)'>', (byte)'=', (byte)'1', 0xC3, 0x28, (byte)'\n']);
        Assert.Throws<GovernanceInputException>(() => RequirementsFile.Read(dir.File("f.txt"), "f.txt"));
    }

    [Fact]
    public void Read_ByteOrderMark_IsIgnored()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("f.txt"), "CycloneDX>=6.3.1\n", new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        Assert.Equal("CycloneDX", Assert.Single(RequirementsFile.Read(dir.File("f.txt"), "f.txt")).Name);
    }

    [Fact]
    public void Parse_ArbitraryText_EitherParsesOrFailsClosed()
        => Gen.String[Gen.Char["ab.1>=# \n\r\t-+[];,=<~*"], 0, 60].Sample(text =>
        {
            try
            {
                var floors = RequirementsFile.Parse(text, "f.txt");
                Assert.NotEmpty(floors);
            }
            catch (GovernanceInputException)
            {
            }
        });

    [Fact]
    public void Parse_RenderedFloors_RoundTrip()
    {
        var name = Gen.String[Gen.Char["abcXYZ09._-"], 1, 12].Where(s => char.IsAsciiLetterOrDigit(s[0]));
        var version = Gen.Select(Gen.Int[0, 99], Gen.Int[0, 99], Gen.Int[0, 99]).Select((a, b, c) => $"{a}.{b}.{c}");
        Gen.Select(name, version).Array[1, 8].Sample(pairs =>
        {
            var unique = pairs.DistinctBy(p => p.Item1, StringComparer.OrdinalIgnoreCase).ToArray();
            string text = string.Join('\n', unique.Select(p => $"{p.Item1}>={p.Item2}  # comment"));
            var floors = RequirementsFile.Parse(text, "f.txt");
            Assert.Equal(unique.Select(p => p.Item1), floors.Select(f => f.Name));
            Assert.Equal(unique.Select(p => p.Item2), floors.Select(f => f.Minimum.Text));
        });
    }
}

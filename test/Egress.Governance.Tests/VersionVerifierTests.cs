using Egress.Cli.Governance;

namespace Egress.Governance.Tests;

public class VersionVerifierTests
{
    private static VersionFloor Floor(string name, string min) => new(name, Version(min), "floors.txt", 1);

    private static PinnedPackage Pin(string name, string version, string file = "Directory.Packages.props")
        => new(name, version, ToolingInventoryLowest(version), file, 3);

    private static SemanticVersion? ToolingInventoryLowest(string v) => ToolingInventory.LowestAdmitted(v);

    private static SemanticVersion Version(string text) => SemanticVersion.TryParse(text, out var v) ? v : throw new ArgumentException(text);

    [Theory]
    [InlineData("6.3.1", "6.3.1", "Ok")]
    [InlineData("6.3.1", "6.4.0", "Ok")]
    [InlineData("6.3.1", "6.3.0", "BelowFloor")]
    [InlineData("6.3.1", "6.3.1-rc.1", "BelowFloor")]
    [InlineData("7.0.0-rc.1", "7.0.0-beta.9", "BelowFloor")]
    [InlineData("7.0.0-rc.1", "7.0.0", "Ok")]
    [InlineData("6.3.1", "6.*", "Unpinned")]
    [InlineData("6.3.1", "[6.3.1]", "Ok")]
    public void Verify_PinAgainstFloor(string floor, string pinned, string status)
    {
        var expected = Enum.Parse<VersionCheckStatus>(status);
        var check = Assert.Single(VersionVerifier.Verify([Floor("CycloneDX", floor)], [Pin("cyclonedx", pinned)]));

        Assert.Equal(expected, check.Status);
        Assert.Equal(expected == VersionCheckStatus.Ok, check.Passed);
    }

    [Fact]
    public void Verify_FloorWithoutPin_IsMissing()
    {
        var check = Assert.Single(VersionVerifier.Verify([Floor("SecurityCodeScan.VS2019", "5.6.7")], [Pin("Other", "9.0.0")]));

        Assert.Equal(VersionCheckStatus.Missing, check.Status);
        Assert.Contains("not pinned", check.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_PinnedTwice_EveryPinMustMeetTheFloor()
    {
        var checks = VersionVerifier.Verify(
            [Floor("tool", "2.0.0")],
            [Pin("tool", "2.1.0", ".config/dotnet-tools.json"), Pin("Tool", "1.9.0")]);

        Assert.Equal([VersionCheckStatus.Ok, VersionCheckStatus.BelowFloor], checks.Select(c => c.Status));
    }

    [Fact]
    public void Verify_UnflooredPins_AreIgnored()
        => Assert.Empty(VersionVerifier.Verify([], [Pin("anything", "0.0.1")]));
}

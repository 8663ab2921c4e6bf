using Egress.Cli.Governance;
using Egress.TestUtils;

namespace Egress.Governance.Tests;

public class ToolingInventoryTests
{
    [Fact]
    public void ReadToolManifest_Tools_ReturnsNameVersionAndLine()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("tools.json"), """
            {
              "version": 1,
              "isRoot": true,
              "tools": {
                "cyclonedx": { "version": "6.3.1", "commands": [ "dotnet-CycloneDX" ] },
                "dotnet-stryker": { "version": "5.1.0-beta.2", "commands": [ "dotnet-stryker" ] }
              }
            }
            """);

        var pins = ToolingInventory.ReadToolManifest(dir.File("tools.json"), ".config/dotnet-tools.json");

        Assert.Collection(
            pins,
            p => { Assert.Equal("cyclonedx", p.Name); Assert.Equal("6.3.1", p.Version!.Text); Assert.Equal(5, p.Line); },
            p => { Assert.Equal("dotnet-stryker", p.Name); Assert.True(p.Version!.IsPreRelease); Assert.Equal(6, p.Line); });
        Assert.All(pins, p => Assert.Equal(".config/dotnet-tools.json", p.File));
    }

    [Theory]
    [InlineData("{ \"tools\": { \"a\": { \"version\": \"1.0\" }, }", "not valid JSON")]
    [InlineData("[]", "no \"tools\" object")]
    [InlineData("{ \"version\": 1 }", "no \"tools\" object")]
    [InlineData("{ \"tools\": { \"a\": { \"commands\": [] } } }", "has no \"version\" string")]
    [InlineData("{ \"tools\": { \"a\": { \"version\": 6 } } }", "has no \"version\" string")]
    public void ReadToolManifest_Malformed_FailsNamingFile(string json, string reason)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("tools.json"), json);

        var ex = Assert.Throws<GovernanceInputException>(() => ToolingInventory.ReadToolManifest(dir.File("tools.json"), "m.json"));

        Assert.Equal("m.json", ex.File);
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadPackagesProps_PackageVersionsAndGlobalReferences_ReturnsPinsWithLines()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("p.props"), """
            <Project>
              <ItemGroup>
                <PackageVersion Include="SecurityCodeScan.VS2019" Version="5.6.7" />
                <PackageVersion Include="Exact" Version="[2.0.0]" />
                <PackageVersion Include="Range" Version="[3.1.0, )" />
                <PackageVersion Include="Floating" Version="4.*" />
                <PackageVersion Include="Property" Version="$(SomeVersion)" />
                <GlobalPackageReference Include="Global.Analyzer" Version="1.2.3" />
                <PackageVersion Include="Child"><Version>9.0.0</Version></PackageVersion>
              </ItemGroup>
            </Project>
            """);

        var pins = ToolingInventory.ReadPackagesProps(dir.File("p.props"), "Directory.Packages.props").ToDictionary(p => p.Name);

        Assert.Equal("5.6.7", pins["SecurityCodeScan.VS2019"].Version!.Text);
        Assert.Equal(3, pins["SecurityCodeScan.VS2019"].Line);
        Assert.Equal("2.0.0", pins["Exact"].Version!.Text);
        Assert.Equal("3.1.0", pins["Range"].Version!.Text);
        Assert.Null(pins["Floating"].Version);
        Assert.Null(pins["Property"].Version);
        Assert.Equal("1.2.3", pins["Global.Analyzer"].Version!.Text);
        Assert.Equal("9.0.0", pins["Child"].Version!.Text);
    }

    [Theory]
    [InlineData("<Project><ItemGroup><PackageVersion Include=\"A\" Version=\"1.0\"></ItemGroup></Project>", "not well-formed XML")]
    [InlineData("<Project><ItemGroup><PackageVersion Version=\"1.0\" /></ItemGroup></Project>", "without Include")]
    [InlineData("<Project><ItemGroup><PackageVersion Include=\"A\" /></ItemGroup></Project>", "has no Version")]
    [InlineData("<!DOCTYPE x [<!ENTITY e \"1.0\">]><Project><ItemGroup><PackageVersion Include=\"A\" Version=\"&e;\" /></ItemGroup></Project>", "not well-formed XML")]
    public void ReadPackagesProps_Malformed_FailsNamingFile(string xml, string reason)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("p.props"), xml);

        var ex = Assert.Throws<GovernanceInputException>(() => ToolingInventory.ReadPackagesProps(dir.File("p.props"), "p.props"));

        Assert.Equal("p.props", ex.File);
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.2.3", "1.2.3")]
    [InlineData("[1.2.3]", "1.2.3")]
    [InlineData("[1.2.3,)", "1.2.3")]
    [InlineData("[1.2.3, 2.0.0)", "1.2.3")]
    [InlineData("(1.2.3,)", null)]
    [InlineData("(,2.0.0]", null)]
    [InlineData("[,2.0.0]", null)]
    [InlineData("1.*", null)]
    [InlineData("[1.2.3", null)]
    [InlineData("[1.2.3)", null)]
    [InlineData("$(V)", null)]
    public void LowestAdmitted_NuGetVersionForms(string text, string? expected)
        => Assert.Equal(expected, ToolingInventory.LowestAdmitted(text)?.Text);
}

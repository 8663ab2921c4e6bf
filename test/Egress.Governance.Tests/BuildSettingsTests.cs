using System.Xml.Linq;

namespace Egress.Governance.Tests;

/// <summary>The supply-chain and analyzer settings CI relies on stay in place (their weakening is a reviewed change).</summary>
public class BuildSettingsTests
{
    private static readonly XDocument Props = XDocument.Parse(RepositoryFiles.Read("Directory.Build.props"));

    private static IEnumerable<string> Values(string property)
        => Props.Descendants(property).Select(e => e.Value.Trim());

    [Theory]
    [InlineData("NuGetAudit", "true")]
    [InlineData("NuGetAuditMode", "all")]
    [InlineData("NuGetAuditLevel", "low")]
    [InlineData("TreatWarningsAsErrors", "true")]
    [InlineData("AnalysisModeSecurity", "All")]
    [InlineData("RestorePackagesWithLockFile", "true")]
    public void Property_HasGovernedValue(string property, string value) => Assert.Contains(value, Values(property));

    [Fact]
    public void FoundVulnerabilities_AreNeverSuppressedOrDowngraded()
    {
        foreach (string code in new[] { "NU1901", "NU1902", "NU1903", "NU1904" })
        {
            Assert.DoesNotContain(Values("NoWarn").Concat(Values("WarningsNotAsErrors")), v => v.Contains(code, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void SarifErrorLog_GoesToArtifacts()
        => Assert.Contains(Values("ErrorLog"), v => v.Contains("artifacts/sarif/", StringComparison.Ordinal) && v.EndsWith(",version=2.1", StringComparison.Ordinal));

    [Fact]
    public void SecurityCodeScan_IsReferencedForShippedCode()
        => Assert.Contains(Props.Descendants("PackageReference"), e => (string?)e.Attribute("Include") == "SecurityCodeScan.VS2019");

    [Fact]
    public void NuGetConfig_NamesAnAuditSource()
    {
        var config = XDocument.Parse(RepositoryFiles.Read("nuget.config"));
        var sources = config.Descendants("auditSources").Elements("add").ToList();
        Assert.NotEmpty(sources);
        Assert.Empty(config.Descendants("packageSources"));
    }

    [Fact]
    public void ToolManifest_PinsCycloneDxWithoutRollForward()
    {
        using var doc = System.Text.Json.JsonDocument.Parse(RepositoryFiles.Read(".config/dotnet-tools.json"));
        var tool = doc.RootElement.GetProperty("tools").GetProperty("cyclonedx");
        Assert.Equal("6.3.1", tool.GetProperty("version").GetString());
        Assert.Contains("dotnet-CycloneDX", tool.GetProperty("commands").EnumerateArray().Select(c => c.GetString()));
        Assert.False(tool.GetProperty("rollForward").GetBoolean());
    }
}

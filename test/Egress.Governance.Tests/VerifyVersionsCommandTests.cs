using Egress.Cli;
using Egress.Cli.Commands;
using Egress.TestUtils;

namespace Egress.Governance.Tests;

public sealed class VerifyVersionsCommandTests : IDisposable
{
    private const string Manifest = """
        {
          "version": 1,
          "isRoot": true,
          "tools": {
            "cyclonedx": { "version": "6.3.1", "commands": [ "dotnet-CycloneDX" ], "rollForward": false }
          }
        }
        """;

    private const string Props = """
        <Project>
          <ItemGroup>
            <PackageVersion Include="Microsoft.CodeAnalysis.BannedApiAnalyzers" Version="5.6.0" />
            <PackageVersion Include="SecurityCodeScan.VS2019" Version="5.6.7" />
          </ItemGroup>
        </Project>
        """;

    private readonly TempDirectory _dir = new();

    public VerifyVersionsCommandTests()
    {
        Directory.CreateDirectory(_dir.File(".config"));
        File.WriteAllText(_dir.File(".config/dotnet-tools.json"), Manifest);
        File.WriteAllText(_dir.File("Directory.Packages.props"), Props);
    }

    public void Dispose() => _dir.Dispose();

    private async Task<(int Exit, string Out, string Err)> RunAsync(string floors, params (string, string?)[] env)
    {
        File.WriteAllText(_dir.File("floors.txt"), floors);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var ctx = new CliContext(stdout, stderr, TestEnvironment.Of(env), _dir.Path);
        int exit = await EgressCli.RunAsync(["verify-versions", "--requirements", "floors.txt"], ctx);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task VerifyVersions_AllFloorsMet_PassesWithExitZero()
    {
        var (exit, output, _) = await RunAsync("# floors\nCycloneDX>=6.3.1\nSecurityCodeScan.VS2019>=5.6\nMicrosoft.CodeAnalysis.BannedApiAnalyzers>=5.6.0\n");

        Assert.Equal(0, exit);
        Assert.StartsWith("Version verification PASSED", output, StringComparison.Ordinal);
        Assert.Contains("ok cyclonedx 6.3.1 >= 6.3.1 (.config/dotnet-tools.json)", output, StringComparison.Ordinal);
        Assert.DoesNotContain("::error", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyVersions_AnalyzerBelowFloor_FailsWithAnnotationAtThePin()
    {
        var (exit, output, _) = await RunAsync("CycloneDX>=6.3.1\nSecurityCodeScan.VS2019>=5.7.0\n", ("GITHUB_ACTIONS", "true"));

        Assert.Equal(VerifyVersionsCommand.FailedExitCode, exit);
        Assert.StartsWith("Version verification FAILED:", output, StringComparison.Ordinal);
        Assert.Contains("SecurityCodeScan.VS2019 5.6.7 in Directory.Packages.props is below its floor 5.7.0 (floors.txt:2)", output, StringComparison.Ordinal);
        Assert.Contains("::error file=Directory.Packages.props,line=4,title=Version floor::SecurityCodeScan.VS2019 5.6.7", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyVersions_ReleaseFloorAgainstPreReleasePin_Fails()
    {
        File.WriteAllText(_dir.File(".config/dotnet-tools.json"), Manifest.Replace("6.3.1", "6.3.1-beta.1", StringComparison.Ordinal));

        var (exit, output, _) = await RunAsync("CycloneDX>=6.3.1\n");

        Assert.Equal(VerifyVersionsCommand.FailedExitCode, exit);
        Assert.Contains("cyclonedx 6.3.1-beta.1 in .config/dotnet-tools.json is below its floor 6.3.1", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyVersions_FlooredToolMissing_FailsWithAnnotationAtTheFloor()
    {
        var (exit, output, _) = await RunAsync("CycloneDX>=6.3.1\n\nsecurity-scan>=5.6.7\n", ("GITHUB_ACTIONS", "true"));

        Assert.Equal(VerifyVersionsCommand.FailedExitCode, exit);
        Assert.Contains("::error file=floors.txt,line=3,title=Version floor::security-scan has a floor of 5.6.7", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyVersions_MalformedFloorsLine_FailsClosedNamingFileAndLine()
    {
        var (exit, output, _) = await RunAsync("CycloneDX>=6.3.1\nSecurityCodeScan.VS2019==5.6.7\n", ("GITHUB_ACTIONS", "true"));

        Assert.Equal(VerifyVersionsCommand.FailedExitCode, exit);
        Assert.Contains("floors.txt:2: expected 'name>=version'", output, StringComparison.Ordinal);
        Assert.Contains("::error file=floors.txt,line=2,title=Version floor::", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyVersions_MalformedManifest_FailsClosed()
    {
        File.WriteAllText(_dir.File(".config/dotnet-tools.json"), "{ \"tools\": ");

        var (exit, output, _) = await RunAsync("CycloneDX>=6.3.1\n");

        Assert.Equal(VerifyVersionsCommand.FailedExitCode, exit);
        Assert.Contains(".config/dotnet-tools.json", output, StringComparison.Ordinal);
        Assert.Contains("not valid JSON", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyVersions_WithoutGitHubActions_WritesNoAnnotations()
    {
        var (exit, output, _) = await RunAsync("CycloneDX>=9.0.0\n");

        Assert.Equal(VerifyVersionsCommand.FailedExitCode, exit);
        Assert.DoesNotContain("::error", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyVersions_UnderGitHubActions_AppendsStepSummaryTable()
    {
        string summary = _dir.File("summary.md");

        var (exit, _, _) = await RunAsync("CycloneDX>=9.0.0\n", ("GITHUB_ACTIONS", "true"), ("GITHUB_STEP_SUMMARY", summary));

        Assert.Equal(VerifyVersionsCommand.FailedExitCode, exit);
        string markdown = File.ReadAllText(summary);
        Assert.Contains("Security tooling version floors: FAILED", markdown, StringComparison.Ordinal);
        Assert.Contains("| CycloneDX | 6.3.1 | 9.0.0 | BelowFloor |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyVersions_WithTextfileDir_WritesDowngradeGaugeForTheAlertRule()
    {
        var textfiles = _dir.File("textfiles");

        var (exit, _, _) = await RunAsync("CycloneDX>=9.0.0\nSecurityCodeScan.VS2019>=5.6.7\n", ("EGRESS_PROM_TEXTFILE_DIR", textfiles));

        Assert.Equal(2, exit);
        var text = File.ReadAllText(Path.Combine(textfiles, "egress_tooling.prom"));
        Assert.Matches(@"(?m)^egress_tooling_checked(\{[^}]*\})? 2$", text);
        Assert.Matches(@"(?m)^egress_tooling_downgrades(\{[^}]*\})? 1$", text);
    }

    [Fact]
    public async Task VerifyVersions_WithoutRequirementsOption_IsAUsageError()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = await EgressCli.RunAsync(["verify-versions"], new CliContext(stdout, stderr, TestEnvironment.Of(), _dir.Path));

        Assert.Equal(1, exit);
        Assert.Contains("--requirements", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyVersions_ExplicitManifestThatDoesNotExist_Fails()
    {
        File.WriteAllText(_dir.File("floors.txt"), "CycloneDX>=6.3.1\n");
        var stdout = new StringWriter();
        int exit = await EgressCli.RunAsync(
            ["verify-versions", "--requirements", "floors.txt", "--tool-manifest", "missing.json"],
            new CliContext(stdout, new StringWriter(), TestEnvironment.Of(), _dir.Path));

        Assert.Equal(VerifyVersionsCommand.FailedExitCode, exit);
        Assert.Contains("missing.json: file does not exist", stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyVersions_RepositoryOwnFloors_AreMetByTheRepository()
    {
        var stdout = new StringWriter();
        int exit = await EgressCli.RunAsync(
            ["verify-versions", "--requirements", "eng/requirements-security.txt"],
            new CliContext(stdout, new StringWriter(), TestEnvironment.Of(), RepositoryFiles.Root));

        Assert.True(exit == 0, stdout.ToString());
        Assert.Contains("ok cyclonedx", stdout.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("ok SecurityCodeScan.VS2019", stdout.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyVersions_RealProcess_ExitCodeAndAnnotation()
    {
        File.WriteAllText(_dir.File("floors.txt"), "CycloneDX>=6.4.0\n");

        var result = await ProcessRunner.RunCliAsync(
            ["verify-versions", "--requirements", "floors.txt"],
            new Dictionary<string, string?> { ["GITHUB_ACTIONS"] = "true" },
            _dir.Path);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("::error file=.config/dotnet-tools.json,line=5,title=Version floor::cyclonedx 6.3.1", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_ListsVerifyVersionsWithExitCodes()
    {
        var stdout = new StringWriter();
        await EgressCli.RunAsync(["verify-versions", "--help"], new CliContext(stdout, new StringWriter(), TestEnvironment.Of(), _dir.Path));

        Assert.Contains("Exit codes: 0 every floor met; 1 usage error; 2", stdout.ToString(), StringComparison.Ordinal);
    }
}

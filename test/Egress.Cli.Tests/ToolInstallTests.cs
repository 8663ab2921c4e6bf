using System.IO.Compression;
using System.Reflection;
using Egress.Cli.Tests.Docs;
using Egress.TestUtils;

namespace Egress.Cli.Tests;

/// <summary>
/// The README's install path, as a new user takes it: <c>eng/install-tool.sh</c> packs the tool and installs the
/// package <c>egress-policy</c> from that package alone into a tool path, and the installed command runs.
/// One test, one pack (of the build under test: <c>--no-build</c> in this test's configuration), offline.
/// </summary>
public sealed class ToolInstallTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task InstallScript_PacksAndInstallsEgressPolicy_AndTheInstalledToolRuns()
    {
        string configuration = typeof(ToolInstallTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        string tools = _dir.File("tools"), packages = _dir.File("packages"), work = Directory.CreateDirectory(_dir.File("work")).FullName;

        var install = await ProcessRunner.RunAsync(
            "bash", [Path.Combine(DocTests.RepoRoot, "eng", "install-tool.sh"), "--tool-path", tools, "--output", packages, "--configuration", configuration, "--no-build"],
            timeout: TimeSpan.FromSeconds(100));

        Assert.True(install.ExitCode == 0, $"install-tool.sh failed:\n{install.StdOut}\n{install.StdErr}");
        Assert.Contains("Tool 'egress-policy' (version '0.1.0') was successfully installed.", install.StdOut, StringComparison.Ordinal);
        var package = Assert.Single(Directory.GetFiles(packages));
        Assert.Equal("egress-policy.0.1.0.nupkg", Path.GetFileName(package));
        using (var zip = ZipFile.OpenRead(package))
        {
            using var readme = new StreamReader(zip.GetEntry("README.md")!.Open());
            Assert.StartsWith("# egress-policy", await readme.ReadToEndAsync(), StringComparison.Ordinal);
        }

        string tool = Path.Combine(tools, "egress-policy");
        var env = new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "openai.com" };
        var check = await ProcessRunner.RunAsync(tool, ["check", "https://api.openai.com/v1", "evil.example"], env, work);
        var help = await ProcessRunner.RunAsync(tool, ["check", "--help"], env, work);
        var notice = await ProcessRunner.RunAsync(tool, ["check", "api.openai.com"], null, work);

        Assert.Equal(1, check.ExitCode);
        Assert.StartsWith("ALLOW api.openai.com:443  allowed by domain token 'openai.com'", check.StdOut, StringComparison.Ordinal);
        Assert.Contains("DENY  evil.example  not in allowlist", check.StdOut, StringComparison.Ordinal);
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("EGRESS_ALLOWLIST", help.StdOut, StringComparison.Ordinal);
        Assert.Equal(0, notice.ExitCode);
        Assert.Contains(CliText.DefaultAllowlistNotice, notice.StdErr, StringComparison.Ordinal);
    }
}

using YamlDotNet.RepresentationModel;

namespace Egress.Governance.Tests;

public class ActionManifestTests
{
    private static readonly YamlMappingNode Action = Yaml.Load("action.yml");
    private static IReadOnlyList<YamlMappingNode> Steps => Action.Map("runs").Steps();

    [Fact]
    public void Action_IsCompositeWithARequiredCommand()
    {
        Assert.Equal("composite", Action.Map("runs").Get("using").Text());
        Assert.Equal("true", Action.Map("inputs").Map("command").Get("required").Text());
        Assert.False(string.IsNullOrEmpty(Action.Get("name").Text()));
        Assert.False(string.IsNullOrEmpty(Action.Get("description").Text()));
    }

    [Fact]
    public void Action_BuildsAndInstallsTheToolFromItsOwnCheckout_WithoutAPackageFeed()
    {
        var install = Steps.StepRunning("bash \"$ACTION_PATH/eng/install-tool.sh\" --tool-path");
        Assert.Equal("${{ github.action_path }}", install.Map("env").Get("ACTION_PATH").Text());
        Assert.Contains("GITHUB_PATH", install.Run(), StringComparison.Ordinal);
        Assert.Contains("EGRESS_EVENTS_FILE", install.Run(), StringComparison.Ordinal);
        Assert.Null(Action.Map("inputs").Get("tool-version"));
        Assert.DoesNotContain("EgressPolicy.Tool", RepositoryFiles.Read("action.yml"), StringComparison.Ordinal);

        // The script installs the package it packed and nothing else: only the local folder is a source.
        string script = RepositoryFiles.Read("eng/install-tool.sh");
        Assert.Contains("dotnet pack \"$root/src/Egress.Cli\"", script, StringComparison.Ordinal);
        Assert.Contains("<clear />", script, StringComparison.Ordinal);
        Assert.Contains("dotnet tool install egress-policy --version \"$version\" --configfile", script, StringComparison.Ordinal);
        Assert.DoesNotContain("--add-source", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Action_RunsTheCommandBehindTheProxyThroughAnEnvironmentVariable()
    {
        var run = Steps.StepRunning("egress-policy run", "--summary-out", "-- bash -c \"$EGRESS_COMMAND\"");
        Assert.Equal("${{ inputs.command }}", run.Map("env").Get("EGRESS_COMMAND").Text());
        Assert.Equal("run", run.Get("id").Text());
    }

    [Theory]
    [InlineData("EGRESS_CI_FAIL_ON_BLOCKED", "fail-on-blocked")]
    [InlineData("EGRESS_CI_FAIL_ON_DRIFT", "fail-on-drift")]
    [InlineData("EGRESS_CI_ALLOW_DISABLE", "allow-disable")]
    public void Action_PassesEachCiSwitchToRunAndVerify(string variable, string input)
    {
        Assert.NotNull(Action.Map("inputs").Get(input));
        foreach (var step in new[] { Steps.StepRunning("egress-policy run"), Steps.StepRunning("egress-policy --verify") })
        {
            Assert.Equal($"${{{{ inputs.{input} }}}}", step.Map("env").Get(variable).Text());
        }
    }

    [Fact]
    public void Action_VerifiesUploadsTheSummaryAndFailsOnEitherExitCode()
    {
        var verify = Steps.StepRunning("egress-policy --verify --summary-out");
        var upload = Assert.Single(Steps, s => s.Uses()?.StartsWith("actions/upload-artifact@", StringComparison.Ordinal) == true);
        var fail = Steps[^1];

        Assert.True(Steps.IndexOf(Steps.StepRunning("egress-policy run")) < Steps.IndexOf(verify));
        Assert.True(Steps.IndexOf(verify) < Steps.IndexOf(upload));
        Assert.Equal("${{ inputs.summary-path }}", upload.Map("with").Get("path").Text());
        Assert.Contains("always()", upload.Get("if").Text(), StringComparison.Ordinal);
        Assert.Equal("always()", fail.Get("if").Text());
        Assert.Contains("exit 1", fail.Run(), StringComparison.Ordinal);
        Assert.Equal("${{ steps.run.outputs.exit-code }}", fail.Map("env").Get("RUN_EXIT").Text());
        Assert.Equal("${{ steps.verify.outputs.exit-code }}", fail.Map("env").Get("VERIFY_EXIT").Text());
    }

    [Fact]
    public void Action_EveryScriptStepDeclaresBash()
    {
        foreach (var step in Steps.Where(s => s.Get("run") is not null))
        {
            Assert.Equal("bash", step.Get("shell").Text());
        }
    }
}

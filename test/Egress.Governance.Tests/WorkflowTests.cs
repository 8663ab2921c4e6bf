using System.Text.RegularExpressions;
using Egress.Policy.Locking;
using YamlDotNet.RepresentationModel;

namespace Egress.Governance.Tests;

public partial class WorkflowTests
{
    private static readonly YamlMappingNode Ci = Yaml.Load(".github/workflows/ci.yml");
    private static readonly YamlMappingNode Security = Yaml.Load(".github/workflows/security.yml");
    private static IReadOnlyList<YamlMappingNode> CiSteps => Ci.Map("jobs").Entries().Single().Value.Steps();

    public static TheoryData<string> Files => [.. WorkflowFiles.All];

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex FullSha();

    [GeneratedRegex(@"^v\d+(\.\d+){0,2}\b")]
    private static partial Regex VersionComment();

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryAction_IsPinnedByFullCommitShaWithAVersionComment(string file)
    {
        var uses = WorkflowFiles.UsesLines(file).ToList();
        Assert.NotEmpty(uses);
        foreach (var (line, action, reference, comment) in uses)
        {
            Assert.True(FullSha().IsMatch(reference), $"{file}:{line}: {action}@{reference} is not pinned by a 40-hex commit SHA");
            Assert.True(VersionComment().IsMatch(comment), $"{file}:{line}: {action} has no '# vX.Y.Z' comment naming the pinned release");
        }
    }

    [Fact]
    public void EveryUsesLine_IsSeenByTheYamlParserToo()
    {
        // Guards the text scan above: a 'uses:' written in a form the regex misses would escape the pin check.
        foreach (var file in WorkflowFiles.All)
        {
            var root = Yaml.Load(file);
            var steps = file == "action.yml" ? root.Map("runs").Steps() : root.AllSteps().ToList();
            int parsed = steps.Count(s => s.Uses() is not null);
            Assert.Equal(parsed, WorkflowFiles.UsesLines(file).Count());
        }
    }

    [Fact]
    public void SameAction_IsPinnedToTheSameCommitEverywhere()
    {
        var pins = WorkflowFiles.All.SelectMany(WorkflowFiles.UsesLines)
            .GroupBy(u => u.Action.Split('/').Take(2).Aggregate((a, b) => a + "/" + b));
        foreach (var group in pins)
        {
            Assert.True(group.Select(u => u.Ref).Distinct().Count() == 1, $"{group.Key} is pinned to different commits");
        }
    }

    [Theory]
    [InlineData(".github/workflows/ci.yml")]
    [InlineData(".github/workflows/security.yml")]
    public void Permissions_AreEmptyAtTheTopAndMinimalPerJob(string file)
    {
        var root = Yaml.Load(file);
        var top = Assert.IsType<YamlMappingNode>(root.Get("permissions"));
        Assert.Empty(top.Children);

        foreach (var (name, job) in root.Map("jobs").Entries())
        {
            var permissions = Assert.IsType<YamlMappingNode>(job.Get("permissions"));
            Assert.Equal("read", permissions.Get("contents").Text());
            foreach (var (scope, level) in permissions.Entries())
            {
                Assert.Contains(level.Text(), new[] { "read", "write", "none" });
                if (level.Text() == "write")
                {
                    Assert.True(scope == "security-events", $"{file}: job {name} asks for {scope}: write");
                }
            }
        }

        Assert.DoesNotContain("write-all", RepositoryFiles.Read(file), StringComparison.Ordinal);
        Assert.DoesNotContain("pull_request_target", RepositoryFiles.Read(file), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Scripts_NeverInterpolateExpressions(string file)
    {
        // ${{ }} in a run: script is spliced into the shell source (script injection); values go through env:.
        var root = Yaml.Load(file);
        var steps = file == "action.yml" ? root.Map("runs").Steps() : root.AllSteps().ToList();
        foreach (var step in steps)
        {
            Assert.DoesNotContain("${{", step.Run(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Checkout_DoesNotPersistCredentials()
    {
        foreach (var step in Ci.AllSteps().Concat(Security.AllSteps()).Where(s => s.Uses()?.StartsWith("actions/checkout@", StringComparison.Ordinal) == true))
        {
            Assert.Equal("false", step.Map("with").Get("persist-credentials").Text());
        }
    }

    [Fact]
    public void Ci_RunsOnPushPullRequestAndManually()
    {
        var on = Ci.Map("on");
        Assert.NotNull(on.Get("push"));
        Assert.NotNull(on.Get("pull_request"));
        Assert.NotNull(on.Get("workflow_dispatch"));
    }

    [Fact]
    public void Ci_RestoresInLockedModeAndBuildsWithWarningsAsErrors()
    {
        var restore = CiSteps.StepRunning("dotnet restore", "--locked-mode");
        var build = CiSteps.StepRunning("dotnet build", "-warnaserror");
        Assert.True(CiSteps.IndexOf(restore) < CiSteps.IndexOf(build));
        Assert.Contains("NU1905", CiSteps.StepRunning("--vulnerable").Run(), StringComparison.Ordinal);
    }

    [Fact]
    public void Ci_TestsWithCoberturaCoverageAndTheEventJournal()
    {
        var test = CiSteps.StepRunning("dotnet test", "XPlat Code Coverage", "cobertura");
        Assert.False(string.IsNullOrEmpty(Ci.Map("env").Get("EGRESS_EVENTS_FILE").Text()), "EGRESS_EVENTS_FILE must be set for the test run");
        var coverage = CiSteps.Uploads()["coverage-cobertura"];
        Assert.Contains("coverage.cobertura.xml", coverage.Map("with").Get("path").Text(), StringComparison.Ordinal);
        Assert.True(CiSteps.IndexOf(test) < CiSteps.IndexOf(coverage));
    }

    [Fact]
    public void Ci_VerifiesThePolicyAfterTheTestsAndUploadsTheSummary()
    {
        var test = CiSteps.StepRunning("dotnet test");
        var verify = CiSteps.StepRunning("--verify", "--summary-out egress-summary.json");
        var upload = CiSteps.Uploads()["egress-summary"];

        Assert.True(CiSteps.IndexOf(test) < CiSteps.IndexOf(verify));
        Assert.True(CiSteps.IndexOf(verify) < CiSteps.IndexOf(upload));
        Assert.Equal("egress-summary.json", upload.Map("with").Get("path").Text());
        Assert.Equal("always()", upload.Get("if").Text());
        Assert.Equal("1", Ci.Map("env").Get("EGRESS_CI_FAIL_ON_DRIFT").Text());
    }

    [Fact]
    public void Ci_ScansForVulnerablePackagesAndReportsMissingData()
    {
        var scan = CiSteps.StepRunning("dotnet list", "--vulnerable", "--include-transitive");
        Assert.Contains("did not provide any vulnerability data", scan.Run(), StringComparison.Ordinal);
        Assert.Contains("exit 1", scan.Run(), StringComparison.Ordinal);
    }

    [Fact]
    public void Ci_UploadsSarifSbomAndSecurityReports()
    {
        var sarif = Assert.Single(CiSteps, s => s.Uses()?.StartsWith("github/codeql-action/upload-sarif@", StringComparison.Ordinal) == true);
        Assert.Equal("artifacts/sarif", sarif.Map("with").Get("sarif_file").Text());
        Assert.Contains("ErrorLog", RepositoryFiles.Read("Directory.Build.props"), StringComparison.Ordinal);
        Assert.Contains("artifacts/sarif", RepositoryFiles.Read("Directory.Build.props"), StringComparison.Ordinal);

        CiSteps.StepRunning("dotnet tool restore", "dotnet-CycloneDX", "--output-format Json");
        Assert.Equal("artifacts/sbom/bom.json", CiSteps.Uploads()["sbom"].Map("with").Get("path").Text());
        Assert.Contains("artifacts/sarif/", CiSteps.Uploads()["security-reports"].Map("with").Get("path").Text(), StringComparison.Ordinal);
    }

    [Fact]
    public void Ci_VerifiesSecurityToolingVersionFloors()
    {
        CiSteps.StepRunning("verify-versions", "--requirements eng/requirements-security.txt");
        Assert.True(RepositoryFiles.Exists("eng/requirements-security.txt"));
    }

    [Fact]
    public void Ci_AllowlistEqualsTheLockFile()
        => AssertAllowlistMatchesLock(Ci.Map("env").Get("EGRESS_ALLOWLIST").Text(), "ci.yml");

    [Fact]
    public void Security_RunsWeeklyAndOnPullRequests()
    {
        var on = Security.Map("on");
        Assert.NotNull(on.Get("pull_request"));
        var schedule = Assert.IsType<YamlSequenceNode>(on.Get("schedule"));
        string cron = Assert.Single(schedule.Children).Get("cron").Text()!;
        Assert.Equal(5, cron.Split(' ').Length);
    }

    [Fact]
    public void Security_GatesPolicyDriftFloorsAndVulnerabilities()
    {
        var steps = Security.AllSteps().ToList();
        var verify = steps.StepRunning("--verify", "lock --diff");
        Assert.Equal("1", verify.Map("env").Get("EGRESS_CI_FAIL_ON_DRIFT").Text());
        Assert.Equal("1", verify.Map("env").Get("EGRESS_CI_FAIL_ON_BLOCKED").Text());
        AssertAllowlistMatchesLock(verify.Map("env").Get("EGRESS_ALLOWLIST").Text(), "security.yml");
        steps.StepRunning("verify-versions", "--requirements eng/requirements-security.txt");
        steps.StepRunning("dotnet list", "--vulnerable", "--include-transitive");
    }

    [Fact]
    public void Security_LockChangeNeedsAWrittenJustification()
    {
        var step = Security.AllSteps().ToList().StepRunning("git diff --quiet", "policy_allowlist.lock");
        Assert.Equal("github.event_name == 'pull_request'", step.Get("if").Text());
        Assert.Contains("Egress-Justification:", step.Run(), StringComparison.Ordinal);
        Assert.Contains("exit 1", step.Run(), StringComparison.Ordinal);
        Assert.Equal("${{ github.event.pull_request.body }}", step.Map("env").Get("PR_BODY").Text());
    }

    [Fact]
    public void Security_WaiverLabelNeedsAWrittenRationale()
    {
        var scan = Security.AllSteps().ToList().StepRunning("--vulnerable");
        Assert.Contains("security-waiver", scan.Map("env").Get("WAIVED").Text(), StringComparison.Ordinal);
        Assert.Contains("Security-Waiver-Rationale:", scan.Run(), StringComparison.Ordinal);
        Assert.Equal("${{ github.event.pull_request.body }}", scan.Map("env").Get("PR_BODY").Text());
    }

    internal static void AssertAllowlistMatchesLock(string? allowlist, string where)
    {
        Assert.False(string.IsNullOrWhiteSpace(allowlist), $"{where} sets no EGRESS_ALLOWLIST");
        var locked = LockFile.Read(RepositoryFiles.PathOf("policy_allowlist.lock"));
        var (added, removed) = LockFile.Diff(allowlist!.Split(','), locked);
        Assert.True(added.IsEmpty && removed.IsEmpty, $"{where}: EGRESS_ALLOWLIST drifts from policy_allowlist.lock (+{string.Join(",", added)} -{string.Join(",", removed)})");
    }
}

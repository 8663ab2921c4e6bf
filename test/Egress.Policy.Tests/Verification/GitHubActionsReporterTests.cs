using Egress.Policy.Events;
using Egress.Policy.Verification;
using Egress.TestUtils;

namespace Egress.Policy.Tests.Verification;

public class GitHubActionsReporterTests
{
    private static readonly VerificationResult Failed = new()
    {
        Errors = [new VerificationFinding(3, VerificationCategory.Validation, "wildcard token '*' is prohibited"), new VerificationFinding(5, VerificationCategory.Blocked, "2 blocked egress event(s)")],
        Warnings = [new VerificationFinding(4, VerificationCategory.Drift, "drift: 100% wrong\r\nsecond line"), new VerificationFinding(5, VerificationCategory.Blocked, "blocked summary")],
        BlockedHosts = [new HostCount("evil.example", 2), new HostCount("b|ad`host", 1)],
        IsCi = true,
    };

    [Fact]
    public void WriteAnnotations_OneErrorPerError_OneWarningPerWarningAndPerBlockedHost()
    {
        var sw = new StringWriter();
        GitHubActionsReporter.WriteAnnotations(sw, Failed);
        var lines = sw.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

        Assert.Equal(
        [
            "::error title=Egress policy::wildcard token '*' is prohibited",
            "::error title=Egress policy::2 blocked egress event(s)",
            "::warning title=Egress policy::drift: 100%25 wrong%0D%0Asecond line",
            "::warning title=Egress blocked::blocked egress to evil.example (2 times)",
            "::warning title=Egress blocked::blocked egress to b|ad`host (1 time)",
        ], lines);
    }

    [Theory]
    [InlineData("a%b", "a%25b")]
    [InlineData("a\rb", "a%0Db")]
    [InlineData("a\nb", "a%0Ab")]
    [InlineData("%0A", "%250A")]
    [InlineData("::error::x", "::error::x")]
    [InlineData("a\u001b[2Jb\u0000c", "a?[2Jb?c")]
    [InlineData("a\u007fb\u009bc\td", "a?b?c?d")]
    [InlineData("line\r\n\u001b]0;x\u0007", "line%0D%0A?]0;x?")]
    public void Command_EscapesDataAsTheRunnerExpects(string message, string escaped)
        => Assert.Equal($"::warning title=t::{escaped}", GitHubActionsReporter.Command("warning", "t", message));

    [Fact]
    public void Command_EscapesPropertiesToo()
        => Assert.Equal("::error title=a%3Ab%2Cc%25%0A::m", GitHubActionsReporter.Command("error", "a:b,c%\n", "m"));

    [Fact]
    public void RenderMarkdown_HasVerdictCountsFindingsAndBlockedHosts()
    {
        var stats = new EventStatistics(10);
        stats.Add(new EgressEvent { Action = "DENY", Host = "evil.example" });
        stats.Add(new EgressEvent { Action = "ALLOW", Host = "api.openai.com" });

        var md = GitHubActionsReporter.RenderMarkdown(Failed, stats);

        Assert.StartsWith("## Egress policy verification: FAILED ❌ (exit 4)\n", md, StringComparison.Ordinal);
        Assert.Contains("| 1 | 1 | 0 | 2 |", md, StringComparison.Ordinal);
        Assert.Contains("### Errors\n\n- wildcard token '*' is prohibited\n", md, StringComparison.Ordinal);
        Assert.Contains("### Warnings", md, StringComparison.Ordinal);
        Assert.Contains("| `evil.example` | 2 |", md, StringComparison.Ordinal);
        Assert.Contains("| `b\\|ad'host` | 1 |", md, StringComparison.Ordinal); // table and code spans cannot be broken out of
    }

    [Fact]
    public void RenderMarkdown_Passed()
        => Assert.StartsWith("## Egress policy verification: PASSED ✅", GitHubActionsReporter.RenderMarkdown(new VerificationResult(), new EventStatistics(1)), StringComparison.Ordinal);

    [Fact]
    public void AppendStepSummary_AppendsAndNeverThrows()
    {
        using var dir = new TempDirectory();
        var path = dir.File("summary.md");
        File.WriteAllText(path, "existing\n");

        Assert.True(GitHubActionsReporter.AppendStepSummary(path, "## one\n"));
        Assert.True(GitHubActionsReporter.AppendStepSummary(path, "## two\n"));
        Assert.False(GitHubActionsReporter.AppendStepSummary(null, "x"));
        Assert.False(GitHubActionsReporter.AppendStepSummary(dir.Path, "x")); // a directory: reported, not thrown
        Assert.Equal("existing\n## one\n## two\n", File.ReadAllText(path));
    }
}

namespace Egress.Telemetry.Tests;

/// <summary>Runs promtool on deploy/prometheus so CI checks the alert rules and their unit tests.</summary>
public class AlertRulesTests
{
    [Fact]
    public async Task AlertRules_PassPromtoolCheck()
    {
        var result = await Promtool.RunAsync("check", "rules", RepositoryRoot.File("deploy", "prometheus", "egress-alerts.yml"));
        Assert.True(result.ExitCode == 0, result.StdOut + result.StdErr);
        Assert.Contains("SUCCESS", result.StdOut + result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AlertRules_PassTheirPromtoolUnitTests()
    {
        var tests = Directory.GetFiles(RepositoryRoot.File("deploy", "prometheus", "tests"), "*.yml");
        Assert.NotEmpty(tests);
        var result = await Promtool.RunAsync(["test", "rules", .. tests]);
        Assert.True(result.ExitCode == 0, result.StdOut + result.StdErr);
    }

    [Fact]
    public void AlertRules_CoverEveryRequiredCondition()
    {
        var rules = File.ReadAllText(RepositoryRoot.File("deploy", "prometheus", "egress-alerts.yml"));
        foreach (var alert in new[] { "EgressHighBlockedRate", "EgressJournalWriteFailures", "EgressBlockedInCi", "EgressVerificationFailed", "EgressAllowlistDrift", "EgressToolingDowngrade" })
        {
            Assert.Contains("alert: " + alert, rules, StringComparison.Ordinal);
        }
    }
}

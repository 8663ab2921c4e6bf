using System.Text.RegularExpressions;
using Egress.Policy.Configuration;

namespace Egress.Governance.Tests;

public partial class GovernanceDocumentsTests
{
    public static TheoryData<string> Documents => new(
        "SECURITY.md", "POLICY_SPEC.md", "COMPLIANCE.md", "CHANGELOG.md",
        "docs/POLICY_GOVERNANCE.md", "docs/KEY_ROTATION.md", "docs/ci.md");

    [GeneratedRegex(@"\]\((?<target>[^)#\s]+)(#[^)]*)?\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex(@"^\s*gov_allowlist=""(?<list>[^""]*)""", RegexOptions.Multiline)]
    private static partial Regex CiRunAllowlist();

    [Theory]
    [MemberData(nameof(Documents))]
    public void Document_RelativeLinksResolve(string document)
    {
        string text = RepositoryFiles.Read(document);
        string folder = Path.GetDirectoryName(RepositoryFiles.PathOf(document))!;
        foreach (Match m in MarkdownLink().Matches(text))
        {
            string target = m.Groups["target"].Value;
            if (target.Contains("://", StringComparison.Ordinal))
            {
                continue;
            }

            string full = Path.GetFullPath(Path.Combine(folder, target));
            Assert.True(File.Exists(full) || Directory.Exists(full), $"{document}: link '{target}' resolves to nothing");
        }
    }

    [Fact]
    public void Governance_DocumentsEverySwitchOfTheSeed()
    {
        string text = RepositoryFiles.Read("docs/POLICY_GOVERNANCE.md");
        foreach (string variable in new[]
        {
            EgressEnvironment.Enforce, EgressEnvironment.Allowlist, EgressEnvironment.Log, EgressEnvironment.LogFormat,
            EgressEnvironment.OtelEnable, EgressEnvironment.PromEnable, EgressEnvironment.CiFailOnBlocked,
            EgressEnvironment.CiAllowDisable, EgressEnvironment.CiFailOnDrift,
        })
        {
            Assert.Contains($"`{variable}`", text, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("docs/POLICY_GOVERNANCE.md", "security-waiver")]
    [InlineData("docs/POLICY_GOVERNANCE.md", "Troubleshooting")]
    [InlineData("docs/POLICY_GOVERNANCE.md", "@team/security")]
    [InlineData("COMPLIANCE.md", "SOC 2")]
    [InlineData("COMPLIANCE.md", "ISO/IEC 27001")]
    [InlineData("COMPLIANCE.md", "NIST")]
    [InlineData("docs/ci.md", "uses: egress-policy/egress-policy@")]
    [InlineData("docs/ci.md", "NU1905")]
    [InlineData(".github/workflows/security.yml", "security-waiver")]
    public void Document_CoversRequiredTopic(string document, string topic)
        => Assert.Contains(topic, RepositoryFiles.Read(document), StringComparison.Ordinal);

    [Fact]
    public void CiRun_AllowlistEqualsTheLockFile()
    {
        var m = CiRunAllowlist().Match(RepositoryFiles.Read(".ci/run"));
        Assert.True(m.Success, ".ci/run sets no gov_allowlist");
        WorkflowTests.AssertAllowlistMatchesLock(m.Groups["list"].Value, ".ci/run");
    }

    [Fact]
    public void CiRun_GovernanceSectionRunsEveryCheckBeforeTheTotalsLine()
    {
        string text = RepositoryFiles.Read(".ci/run");
        int start = text.IndexOf("# ===== governance", StringComparison.Ordinal);
        int end = text.IndexOf("# ===== end governance", StringComparison.Ordinal);
        int totals = text.IndexOf("echo \"${passed} passed, ${failed} failed, ${skipped} skipped\"", StringComparison.Ordinal);
        Assert.True(start > 0 && end > start && totals > end, "governance section must sit before the totals line");

        string section = text[start..end];
        foreach (string check in new[] { "--vulnerable --include-transitive", "did not provide any vulnerability data", "artifacts/sarif", "--verify --summary-out", "dotnet-CycloneDX", "verify-versions --requirements eng/requirements-security.txt", "Egress.Governance.Tests" })
        {
            Assert.Contains(check, section, StringComparison.Ordinal);
        }

        Assert.Contains("export EGRESS_EVENTS_FILE=", text[..start], StringComparison.Ordinal);
        Assert.Contains("gov_failed", text[totals..], StringComparison.Ordinal);
    }

    [Fact]
    public void RepositoryLockFile_IsValidAndHasNoKeywordOrWildcardTokens()
    {
        var tokens = Egress.Policy.Locking.LockFile.Read(RepositoryFiles.PathOf("policy_allowlist.lock"));
        Assert.NotEmpty(tokens);
        foreach (string token in tokens)
        {
            Assert.True(Egress.Policy.Tokens.EgressToken.TryParse(token, out var parsed, out _), $"lock token '{token}' does not parse");
            Assert.NotEqual(Egress.Policy.Tokens.EgressTokenKind.Keyword, parsed!.Kind);
        }
    }
}

namespace Egress.Governance.Tests;

public class CodeOwnersTests
{
    private static readonly string[] BothTeams = ["@team/security", "@team/maintainers"];

    private static List<(string Pattern, string[] Owners, int Line)> Rules()
    {
        var rules = new List<(string, string[], int)>();
        string[] lines = RepositoryFiles.Read(".github/CODEOWNERS").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            string[] parts = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            rules.Add((parts[0], parts[1..], i + 1));
        }

        return rules;
    }

    /// <summary>GitHub's rule: the last matching pattern decides the owners. Only the pattern forms this file uses.</summary>
    private static string[] OwnersOf(string path)
    {
        string[] owners = [];
        foreach (var (pattern, o, _) in Rules())
        {
            bool match = pattern == "*"
                || (pattern.EndsWith('/') && ("/" + path).StartsWith(pattern, StringComparison.Ordinal))
                || "/" + path == pattern;
            if (match)
            {
                owners = o;
            }
        }

        return owners;
    }

    [Theory]
    [InlineData("src/Egress.Policy/EgressPolicy.cs")]
    [InlineData("src/Egress.Policy/Verification/PolicyVerifier.cs")]
    [InlineData("policy_allowlist.lock")]
    [InlineData(".github/workflows/ci.yml")]
    [InlineData(".github/workflows/security.yml")]
    [InlineData(".github/CODEOWNERS")]
    [InlineData("action.yml")]
    [InlineData("SECURITY.md")]
    [InlineData("POLICY_SPEC.md")]
    [InlineData("COMPLIANCE.md")]
    [InlineData("docs/POLICY_GOVERNANCE.md")]
    [InlineData("docs/KEY_ROTATION.md")]
    [InlineData("Directory.Build.props")]
    [InlineData("Directory.Packages.props")]
    [InlineData("eng/BannedSymbols.txt")]
    [InlineData("eng/requirements-security.txt")]
    [InlineData(".config/dotnet-tools.json")]
    [InlineData("nuget.config")]
    [InlineData("src/Egress.Cli/Commands/VerifyVersionsCommand.cs")]
    [InlineData("src/Egress.Cli/Governance/RequirementsFile.cs")]
    [InlineData(".ci/run")]
    public void GovernedPath_IsOwnedBySecurityAndMaintainers(string path)
    {
        Assert.True(RepositoryFiles.Exists(path), $"{path} does not exist; update the governed list");
        Assert.Equal(BothTeams, OwnersOf(path));
    }

    [Fact]
    public void EveryOtherPath_HasADefaultOwner() => Assert.Equal(["@team/maintainers"], OwnersOf("README.md"));

    [Fact]
    public void EveryPattern_IsAnchoredAndNamesAnExistingPath()
    {
        foreach (var (pattern, owners, line) in Rules())
        {
            Assert.NotEmpty(owners);
            Assert.All(owners, o => Assert.StartsWith("@", o, StringComparison.Ordinal));
            if (pattern == "*")
            {
                continue;
            }

            Assert.True(pattern.StartsWith('/'), $"CODEOWNERS:{line}: '{pattern}' is not anchored at the root");
            Assert.True(RepositoryFiles.Exists(pattern.TrimStart('/')), $"CODEOWNERS:{line}: '{pattern}' names nothing in the repository");
        }
    }

    [Fact]
    public void DefaultRule_ComesFirst_SoSpecificRulesWin() => Assert.Equal("*", Rules()[0].Pattern);
}

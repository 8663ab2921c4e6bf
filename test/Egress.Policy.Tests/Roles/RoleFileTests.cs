using System.Net;
using Egress.Policy.Roles;

namespace Egress.Policy.Tests.Roles;

/// <summary>The gateway policy file with roles (src/Egress.Policy/Roles): what parses, and every rejection naming its line.</summary>
public sealed class RoleFileTests
{
    // SHA-256 of "s3cret".
    internal const string Secret = "s3cret";
    internal const string SecretHash = "sha256:1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0";

    [Fact]
    public void Parse_AFileWithRoles_GivesTheDefaultAndEachRole()
    {
        var content = RoleFile.Parse($"""
            # default
            github.com
            [role ci]   # comment
            match source 10.0.0.0/8
            match source 192.0.2.7
            match user ci-bot {SecretHash}
            match subject CN=runner-1,O=Example
            PyPI.org
            =files.pythonhosted.org:443
            [role quarantine]
            match source 2001:db8::/32
            """);

        Assert.Empty(content.Problems);
        Assert.True(content.HasRoles);
        Assert.Equal(["github.com"], content.DefaultTexts.ToArray());
        var ci = content.Find("ci")!;
        Assert.Equal(3, ci.Line);
        Assert.Equal(["=files.pythonhosted.org:443", "pypi.org"], ci.TokenTexts.ToArray());
        Assert.Equal([IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("192.0.2.7/32")], ci.Sources.Select(s => s.Network));
        Assert.Equal("ci-bot", Assert.Single(ci.Users).Name);
        Assert.Equal("CN=runner-1, O=Example", Assert.Single(ci.Subjects).Name);
        Assert.Empty(content.Find("quarantine")!.Tokens);
    }

    [Fact]
    public void Parse_APlainLockFile_HasNoRoles()
    {
        var content = RoleFile.Parse("github.com\n=api.example.com:443\n");
        Assert.Empty(content.Problems);
        Assert.False(content.HasRoles);
        Assert.False(RoleFile.HasRoleSyntax("github.com\n# [role x]\n"));
        Assert.True(RoleFile.HasRoleSyntax("github.com\n[role x]\n"));
        Assert.True(RoleFile.HasRoleSyntax("match source 10.0.0.0/8\n"));
    }

    [Theory]
    [InlineData("match source 10.0.0.0/8\n", 1, "outside a [role NAME] section")]
    [InlineData("[role ci]\nexample.com\n", 1, "no 'match source'")]
    [InlineData("[role ci]\nmatch source 10.0.0.0/8\n[role ci]\nmatch source 11.0.0.0/8\n", 3, "already defined on line 1")]
    [InlineData("[role default]\nmatch source 10.0.0.0/8\n", 1, "reserved")]
    [InlineData("[role CI]\nmatch source 10.0.0.0/8\n", 1, "DNS-1123 label")]
    [InlineData("[role -x]\nmatch source 10.0.0.0/8\n", 1, "DNS-1123 label")]
    [InlineData("[group ci]\n", 1, "must be '[role NAME]'")]
    [InlineData("[role ci]\nmatch source 10.0.0.1/8\n", 2, "without host bits")]
    [InlineData("[role ci]\nmatch source 10\n", 2, "not an IP address")]
    [InlineData("[role ci]\nmatch source 0x0a.0.0.1\n", 2, "not an IP address")]
    [InlineData("[role ci]\nmatch source example.com\n", 2, "not an IP address")]
    [InlineData("[role ci]\nmatch user ci\n", 2, "needs a user name")]
    [InlineData("[role ci]\nmatch user ci:x sha256:00\n", 2, "needs a user name")]
    [InlineData("[role ci]\nmatch user ci md5:0123\n", 2, "sha256: and 64 hex digits")]
    [InlineData("[role ci]\nmatch subject not a dn\n", 2, "not a distinguished name")]
    [InlineData("[role ci]\nmatch group x\n", 2, "unknown match kind")]
    [InlineData("[role ci]\nmatch source 10.0.0.0/8\n*\n", 3, "wildcard")]
    [InlineData("[role ci]\nmatch source 10.0.0.0/8\n0.0.0.0/0\n", 3, "wildcard")]
    [InlineData("[role ci]\nmatch source 10.0.0.0/8\nexa mple.com\n", 3, "")]
    public void Parse_ABadLine_IsAProblemOnThatLine(string text, int line, string message)
    {
        var problems = RoleFile.Parse(text).Problems;
        Assert.Contains(problems, p => p.Line == line && p.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_AnIdentityInTwoRoles_IsRejected_NamingBothLines()
    {
        var content = RoleFile.Parse($"""
            [role a]
            match source 10.0.0.0/8
            match user bot {SecretHash}
            match subject CN=x, O=y
            [role b]
            match source 10.1.0.0/16
            match user bot {SecretHash}
            match subject CN=x,O=y
            [role c]
            match source ::ffff:10.2.3.4
            """);

        Assert.Contains(content.Problems, p => p.Line == 6 && p.Message.Contains("overlaps 10.0.0.0/8 on line 2 (role 'a')", StringComparison.Ordinal));
        Assert.Contains(content.Problems, p => p.Line == 7 && p.Message.Contains("already matched on line 3", StringComparison.Ordinal));
        Assert.Contains(content.Problems, p => p.Line == 8 && p.Message.Contains("already matched on line 4", StringComparison.Ordinal));
        // An IPv4-mapped address is the IPv4 address: inside role a's network too.
        Assert.Contains(content.Problems, p => p.Line == 10 && p.Message.Contains("overlaps 10.0.0.0/8", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_OverlapsInsideOneRole_AreFine()
    {
        var content = RoleFile.Parse("[role a]\nmatch source 10.0.0.0/8\nmatch source 10.1.0.0/16\nmatch source 10.1.2.3\n[role b]\nmatch source 11.0.0.0/8\n");
        Assert.Empty(content.Problems);
    }

    [Fact]
    public void Parse_TooManyRoles_IsAProblem()
    {
        var text = string.Concat(Enumerable.Range(0, RoleFile.MaxRoles + 1).Select(i => $"[role r{i}]\nmatch user u{i} {SecretHash}\n"));
        Assert.Contains(RoleFile.Parse(text).Problems, p => p.Message.Contains($"more than {RoleFile.MaxRoles} roles", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("CN=runner-1,O=Example", "CN=runner-1, O=Example")]
    [InlineData("CN=runner-1, O=Example", "CN=runner-1, O=Example")]
    [InlineData("CN = runner-1 , O = Example", "CN=runner-1, O=Example")]
    public void NormalizeSubject_SpellingsOfOneName_AreEqual(string text, string normal)
        => Assert.Equal(normal, RoleFile.NormalizeSubject(text));
}

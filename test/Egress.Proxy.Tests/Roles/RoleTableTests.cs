using System.Net;
using System.Text;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Policy.Roles;
using Egress.Proxy.Roles;

namespace Egress.Proxy.Tests.Roles;

/// <summary>Which role a request gets (src/Egress.Proxy/Roles/RoleTable): precedence, 407 cases, address forms.</summary>
public sealed class RoleTableTests : IDisposable
{
    private const string SecretHash = "sha256:1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0";

    private readonly EgressPolicy _basis = EgressPolicy.Create(new EgressOptions { LogLevel = 0 }, TextWriter.Null);

    public void Dispose() => _basis.Dispose();

    private RoleTable Table(string text)
    {
        var content = RoleFile.Parse(text);
        Assert.Empty(content.Problems);
        return RoleTable.Build(_basis, content);
    }

    private static string Basic(string userColonPassword) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(userColonPassword));

    private static ClientIdentity From(string address, string? subject = null) => new(IPAddress.Parse(address), subject);

    private const string File = $"""
        default.example
        [role by-source]
        match source 10.0.0.0/8
        [role by-user]
        match user bot {SecretHash}
        [role by-subject]
        match subject CN=runner, O=Example
        """;

    [Theory]
    [InlineData("10.1.2.3", null, null, "by-source")]
    [InlineData("10.1.2.3", null, "bot:s3cret", "by-user")]
    [InlineData("10.1.2.3", "CN=runner, O=Example", "bot:s3cret", "by-subject")]
    [InlineData("192.0.2.1", "CN=runner, O=Example", null, "by-subject")]
    [InlineData("192.0.2.1", "CN=other", null, "default")]
    [InlineData("192.0.2.1", null, null, "default")]
    public void Resolve_StrongerIdentityFirst(string address, string? subject, string? credentials, string role)
    {
        var assignment = Table(File).Resolve(From(address, subject), credentials is null ? null : Basic(credentials), "proxy");
        Assert.Null(assignment.Failure);
        Assert.Equal(role, assignment.Context.Role);
        Assert.Equal("proxy", assignment.Context.Source);
    }

    [Theory]
    [InlineData("bot:wrong")]
    [InlineData("nobody:s3cret")]
    [InlineData("bot")]
    [InlineData(":s3cret")]
    public void Resolve_WrongCredentials_Fail_EvenWhenAStrongerIdentityMatches(string credentials)
    {
        var assignment = Table(File).Resolve(From("10.1.2.3", "CN=runner, O=Example"), Basic(credentials), "proxy");
        Assert.NotNull(assignment.Failure);
        Assert.Null(assignment.Policy);
        Assert.DoesNotContain("s3cret", assignment.Failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Bearer abc")]
    [InlineData("Basic !!!")]
    [InlineData("Basic ")]
    [InlineData("Basic /w==")] // not UTF-8
    public void Resolve_AMalformedHeader_Fails(string header)
        => Assert.NotNull(Table(File).Resolve(From("10.1.2.3"), header, "proxy").Failure);

    [Fact]
    public void Resolve_TheSchemeIsCaseInsensitive_AndThePasswordMayHoldColons()
    {
        var table = Table($"[role r]\nmatch user u sha256:{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("a:b:c"u8))}\n");
        var assignment = table.Resolve(From("127.0.0.1"), "basic " + Convert.ToBase64String("u:a:b:c"u8), "proxy");
        Assert.Equal("r", assignment.Context.Role);
        Assert.Equal("u@127.0.0.1", assignment.Context.Client);
    }

    [Fact]
    public void Resolve_WithoutUserRoles_TheHeaderIsIgnored()
        => Assert.Equal("by-source", Table("[role by-source]\nmatch source 10.0.0.0/8\n").Resolve(From("10.0.0.1"), "Bearer whatever", "proxy").Context.Role);

    [Fact]
    public void Resolve_AnIpv4MappedClient_IsMatchedAsIpv4()
    {
        var identity = ClientIdentity.FromEndPoint(new IPEndPoint(IPAddress.Parse("::ffff:10.9.8.7"), 5000));
        Assert.Equal(IPAddress.Parse("10.9.8.7"), identity.Address);
        Assert.Equal("by-source", Table(File).Resolve(identity, null, "proxy").Context.Role);
    }

    [Fact]
    public void Build_EachRoleDecidesWithItsOwnAllowlist()
    {
        var table = Table("a.example\n[role r]\nmatch source 10.0.0.0/8\nb.example\n");
        var role = table.Resolve(From("10.0.0.1"), null, "proxy").Policy!;
        Assert.True(role.Decide("https://b.example").Allowed);
        Assert.False(role.Decide("https://a.example").Allowed);
        Assert.True(table.Default.Decide("https://a.example").Allowed);
        Assert.False(table.Default.Decide("https://b.example").Allowed);
        Assert.Same(_basis.Events, role.Events);
    }
}

using Egress.Policy.Configuration;

namespace Egress.Policy.Tests;

public class EgressPolicyTests
{
    [Theory]
    [InlineData("api.evil.example", "evil.example")]
    [InlineData("evil.example", "evil.example")]
    [InlineData("a.b.c.example.co.uk", "example.co.uk")]
    [InlineData("localhost", "=localhost")]
    [InlineData("a.github.io", "a.github.io")]
    [InlineData("x.y.a.github.io", "a.github.io")]
    [InlineData("10.1.2.3", "10.1.2.3")]
    [InlineData("[2001:db8::1]", "2001:db8::1")]
    public void SuggestToken_GivesAParsableTokenThatAllowsTheHost(string host, string expected)
    {
        var token = EgressPolicy.SuggestToken(host);

        Assert.Equal(expected, token);
        using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = [token] }, TextWriter.Null);
        Assert.Empty(policy.TokenErrors);
        Assert.True(policy.Decide(host).Allowed);
    }

    [Fact]
    public void Create_LogsEachConfigurationWarningAndTokenErrorNamingTheVariable()
    {
        var log = new StringWriter();
        var options = EgressOptionsReader.Read(name => name switch
        {
            "EGRESS_ENFORCE" => "maybe",
            "EGRESS_ALLOWLIST" => "openai.com,*,a..b",
            _ => null,
        });

        using var policy = EgressPolicy.Create(options, log);

        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("egress-policy: warning: EGRESS_ENFORCE:", lines[0], StringComparison.Ordinal);
        Assert.All(lines[1..], l => Assert.StartsWith("egress-policy: warning: EGRESS_ALLOWLIST:", l, StringComparison.Ordinal));
        Assert.Equal(["*", "a..b"], policy.TokenErrors.Select(e => e.Token));
    }

    [Fact]
    public void Create_LogZero_IsSilentButDecisionsStillCount()
    {
        var log = new StringWriter();
        using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = ["*"], LogLevel = 0 }, log);

        policy.Evaluate("evil.example", "test");

        Assert.Equal("", log.ToString());
        Assert.Equal(1, policy.Events.BlockedTotal);
    }
}

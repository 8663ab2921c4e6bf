using System.Net;
using Egress.Policy.Configuration;
using Egress.Policy.Destinations;
using Egress.Policy.Matching;
using Egress.Policy.Tokens;

namespace Egress.Policy.Tests.Matching;

public class AllowlistMatcherTests
{
    private static EgressPolicy Policy(params string[] tokens)
        => EgressPolicy.Create(new EgressOptions { Allowlist = [.. tokens] }, TextWriter.Null);

    private static string? MatchedToken(string allowlist, string destination)
    {
        using var policy = Policy(allowlist.Split(','));
        return policy.Decide(destination).MatchedToken;
    }

    [Theory]
    // domain: itself and subdomains on a label boundary
    [InlineData("openai.com", "openai.com", true)]
    [InlineData("openai.com", "https://api.openai.com/v1", true)]
    [InlineData("openai.com", "a.b.c.openai.com", true)]
    [InlineData("openai.com", "OPENAI.COM.", true)]
    [InlineData("openai.com", "notopenai.com", false)]
    [InlineData("openai.com", "openai.com.evil.example", false)]
    [InlineData("openai.com", "openai.co", false)]
    [InlineData("openai.com", "com", false)]
    [InlineData("openai.com", "xopenai.com", false)]
    [InlineData("openai.com", "api-openai.com", false)]
    // exact: only that host
    [InlineData("=api.openai.com", "api.openai.com", true)]
    [InlineData("=api.openai.com", "https://api.openai.com:8443/", true)]
    [InlineData("=api.openai.com", "x.api.openai.com", false)]
    [InlineData("=api.openai.com", "openai.com", false)]
    // keyword: substring of the canonical host (the seed's semantics)
    [InlineData("openai", "api.openai.com", true)]
    [InlineData("openai", "openai.attacker.example", true)]
    [InlineData("openai", "notopenai.com", true)]
    [InlineData("openai", "example.com", false)]
    [InlineData("openai", "https://example.com/openai", false)]
    [InlineData("openai", "https://openai@example.com/", false)]
    // keywords never match IP literals (deliberate: "10" must not allow 10.0.0.1)
    [InlineData("10", "10.0.0.1", false)]
    [InlineData("127", "http://127.0.0.1/", false)]
    [InlineData("ffff", "[::ffff:1]", false)]
    // IP and CIDR
    [InlineData("10.0.0.7", "10.0.0.7", true)]
    [InlineData("10.0.0.7", "10.0.0.8", false)]
    [InlineData("10.0.0.0/8", "http://10.255.1.2:9000/", true)]
    [InlineData("10.0.0.0/8", "http://0x0a000001/", true)]
    [InlineData("10.0.0.0/8", "http://[::ffff:10.0.0.1]/", true)]
    [InlineData("10.0.0.0/8", "11.0.0.1", false)]
    [InlineData("2001:db8::/32", "[2001:db8:ffff::1]:443", true)]
    [InlineData("2001:db8::/32", "[2001:db9::1]", false)]
    [InlineData("[::1]", "http://[0:0::1]/", true)]
    // IP tokens do not match names and name tokens do not match IPs
    [InlineData("10.0.0.0/8", "ten.example", false)]
    [InlineData("0.0.10.in-addr.arpa", "10.0.0.0", false)]
    public void Decide_TokenSemantics(string allowlist, string destination, bool allowed)
        => Assert.Equal(allowed, MatchedToken(allowlist, destination) is not null);

    [Theory]
    [InlineData("openai.com:443", "https://api.openai.com/", true)]
    [InlineData("openai.com:443", "http://api.openai.com/", false)]
    [InlineData("openai.com:443", "api.openai.com", false)] // bare host, port unknown
    [InlineData("openai.com:443", "api.openai.com:443", true)]
    [InlineData("=api.openai.com:8443", "https://api.openai.com:8443/", true)]
    [InlineData("=api.openai.com:8443", "https://api.openai.com/", false)]
    [InlineData("10.0.0.0/8:5432", "10.1.1.1:5432", true)]
    [InlineData("10.0.0.0/8:5432", "10.1.1.1:5433", false)]
    [InlineData("[::1]:8080", "http://[::1]:8080/", true)]
    [InlineData("[::1]:8080", "http://[::1]:8081/", false)]
    [InlineData("localhost:80", "http://localhost/", true)]
    [InlineData("localhost:80", "https://localhost/", false)]
    public void Decide_PortTokens_MatchOnlyThatPort(string allowlist, string destination, bool allowed)
        => Assert.Equal(allowed, MatchedToken(allowlist, destination) is not null);

    [Theory]
    [InlineData("openai,openai.com,=api.openai.com", "api.openai.com", "=api.openai.com")]
    [InlineData("openai,openai.com,=api.openai.com", "x.api.openai.com", "openai.com")]
    [InlineData("openai,openai.com,api.openai.com", "x.api.openai.com", "api.openai.com")]
    [InlineData("openai.com,api.openai.com", "x.api.openai.com", "api.openai.com")]
    [InlineData("openai,openai.com", "openai.example", "openai")]
    [InlineData("openai.com,api.openai.com:8443", "https://x.api.openai.com/", "openai.com")]
    [InlineData("openai.com,api.openai.com:8443", "https://x.api.openai.com:8443/", "api.openai.com:8443")]
    [InlineData("=api.openai.com,=api.openai.com:443", "https://api.openai.com/", "=api.openai.com:443")]
    [InlineData("10.0.0.0/8,10.1.0.0/16,10.1.2.0/24", "10.1.2.3", "10.1.2.0/24")]
    [InlineData("10.1.2.0/24,10.0.0.0/8", "10.9.9.9", "10.0.0.0/8")]
    public void Decide_MostSpecificTokenWins(string allowlist, string destination, string expected)
        => Assert.Equal(expected, MatchedToken(allowlist, destination));

    [Fact]
    public void Decide_Allowed_ReportsTheDecisionContract()
    {
        using var policy = Policy("openai.com");

        var d = policy.Decide("https://user:pw@API.OpenAI.com./v1?q");

        Assert.True(d.Allowed);
        Assert.Equal("openai.com", d.MatchedToken);
        Assert.Equal("api.openai.com", d.DestinationHost);
        Assert.Equal(443, d.Port);
        Assert.Equal("allowed by domain token 'openai.com'", d.Reason);
        Assert.Equal("ALLOW", d.Action);
    }

    [Fact]
    public void Decide_Denied_SaysNotInAllowlist()
    {
        using var policy = Policy("openai.com");

        var d = policy.Decide("https://evil.example/");

        Assert.False(d.Allowed);
        Assert.Null(d.MatchedToken);
        Assert.Equal("evil.example", d.DestinationHost);
        Assert.Equal("not in allowlist", d.Reason);
        Assert.Equal("DENY", d.Action);
        Assert.Equal(EgressOutcome.NotInAllowlist, d.Outcome);
    }

    [Fact]
    public void Decide_AuditMode_AllowsButSaysWhatWouldBeDenied()
    {
        using var policy = EgressPolicy.Create(new EgressOptions { Enforce = false, Allowlist = ["openai.com"] }, TextWriter.Null);

        var d = policy.Decide("https://evil.example/");

        Assert.True(d.Allowed);
        Assert.True(d.WouldDeny);
        Assert.Contains("would deny", d.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://exa mple.com/", "forbidden")]
    [InlineData("http://[::1/", "IPv6")]
    [InlineData("http://example.com:99999/", "port")]
    [InlineData("", "empty")]
    [InlineData("http://256.0.0.1/", "out of range")]
    public void Decide_InvalidDestination_IsDeniedWithAReason(string destination, string fragment)
    {
        using var policy = Policy("openai", "example.com");

        var d = policy.Decide(destination);

        Assert.False(d.Allowed);
        Assert.Equal(EgressOutcome.InvalidDestination, d.Outcome);
        Assert.StartsWith("invalid destination: ", d.Reason, StringComparison.Ordinal);
        Assert.Contains(fragment, d.Reason, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Decide_EmptyAllowlist_DeniesEverything()
    {
        using var policy = Policy();
        Assert.False(policy.Decide("https://api.openai.com/").Allowed);
        Assert.False(policy.Decide("10.0.0.1").Allowed);
    }

    [Fact]
    public void Decide_InvalidTokensTakeNoPart()
    {
        using var policy = Policy("*", "all", "openai.com");

        Assert.Equal(2, policy.TokenErrors.Length);
        Assert.False(policy.Decide("https://evil.example/").Allowed);
        Assert.True(policy.Decide("https://openai.com/").Allowed);
    }

    [Fact]
    public void MatchExplicit_OnlyIpOrExactTokensNameAnAddress()
    {
        EgressToken T(string s) => EgressToken.TryParse(s, out var t, out _) ? t! : throw new InvalidOperationException(s);
        var matcher = new AllowlistMatcher([T("internal.example"), T("=db.internal.example"), T("127.0.0.0/8")]);

        Assert.Null(matcher.MatchExplicit("api.internal.example", IPAddress.Parse("10.0.0.1"), 443));
        Assert.NotNull(matcher.MatchExplicit("db.internal.example", IPAddress.Parse("10.0.0.1"), 443));
        Assert.NotNull(matcher.MatchExplicit("api.internal.example", IPAddress.Parse("127.0.0.1"), 443));
    }

    [Fact]
    public void DecideAddress_AllowedNameResolvingToPrivateAddress_IsDeniedUnlessNamedExplicitly()
    {
        using var policy = Policy("internal.example", "=db.internal.example");
        Assert.True(DestinationParser.TryParse("https://api.internal.example/", out var api, out _));
        Assert.True(DestinationParser.TryParse("https://db.internal.example/", out var db, out _));

        var d1 = policy.DecideAddress(api, IPAddress.Parse("169.254.169.254"));
        var d2 = policy.DecideAddress(db, IPAddress.Parse("10.0.0.5"));
        var d3 = policy.DecideAddress(api, IPAddress.Parse("93.184.216.34"));

        Assert.False(d1.Allowed);
        Assert.Equal(EgressOutcome.SpecialPurposeAddress, d1.Outcome);
        Assert.True(d2.Allowed);
        Assert.True(d3.Allowed);
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("::7f00:1")]
    [InlineData("64:ff9b::7f00:1")]
    [InlineData("fec0::1")] // deprecated site-local: still routed inside legacy networks
    [InlineData("feff::1")]
    [InlineData("::ffff:0:7f00:1")] // IPv4-translated (SIIT) form of 127.0.0.1
    [InlineData("::ffff:0:a00:5")] // IPv4-translated (SIIT) form of 10.0.0.5
    public void DecideAddress_AllowedNameResolvingToSpecialPurposeAddress_IsDenied(string address)
    {
        using var policy = Policy("internal.example");
        Assert.True(DestinationParser.TryParse("https://api.internal.example/", out var api, out _));

        var decision = policy.DecideAddress(api, IPAddress.Parse(address));

        Assert.False(decision.Allowed, address);
        Assert.Equal(EgressOutcome.SpecialPurposeAddress, decision.Outcome);
    }

    [Fact]
    public void Decide_ManyTokens_StillExact()
    {
        var tokens = Enumerable.Range(0, 10_000).Select(i => $"host{i}.example").Append("openai").ToArray();
        using var policy = Policy(tokens);

        Assert.Equal("host9999.example", policy.Decide("a.host9999.example").MatchedToken);
        Assert.Null(policy.Decide("host99999.example").MatchedToken);
        Assert.Equal("openai", policy.Decide("openai.net").MatchedToken);
    }
}

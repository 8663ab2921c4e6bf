using CsCheck;
using Egress.Policy.Events;
using Egress.Policy.Locking;
using Egress.Policy.Tokens;

namespace Egress.Policy.Tests.Locking;

public sealed class PolicyLearnerTests
{
    private static EgressEvent Allowed(string host, bool wouldDeny = false, string reason = "", string? token = null)
        => new() { Action = "ALLOW", Host = host, WouldDeny = wouldDeny, Reason = reason, Token = token };

    private static string[] Tokens(params EgressEvent[] events) => [.. PolicyLearner.Learn(events).Tokens.Select(t => t.Token)];

    [Fact]
    public void Learn_SingleSubdomain_KeepsTheHostItself()
        => Assert.Equal(["api.openai.com"], Tokens(Allowed("api.openai.com")));

    [Fact]
    public void Learn_SiblingSubdomains_ShareTheirNarrowestCommonParent()
    {
        Assert.Equal(["api.example.com"], Tokens(Allowed("a.api.example.com"), Allowed("b.api.example.com")));
        Assert.Equal(["example.com"], Tokens(Allowed("api.example.com"), Allowed("cdn.example.com")));
    }

    [Fact]
    public void Learn_CountryCodeSecondLevel_NeverYieldsThePublicSuffix()
        => Assert.Equal(["example.co.uk"], Tokens(Allowed("a.example.co.uk"), Allowed("b.example.co.uk")));

    [Fact]
    public void Learn_DifferentTenantsOfASharedPlatform_StaySeparate()
        => Assert.Equal(["alice.github.io", "bob.github.io"], Tokens(Allowed("alice.github.io"), Allowed("bob.github.io")));

    [Fact]
    public void Learn_HostThatIsASuffixOrSingleLabel_BecomesExactHost()
        => Assert.Equal(["=github.io", "=intranet"], Tokens(Allowed("github.io"), Allowed("intranet")));

    [Fact]
    public void Learn_IpAddresses_BecomeIpTokens()
        => Assert.Equal(["10.0.0.7", "2001:db8::1"], Tokens(Allowed("10.0.0.7"), Allowed("[2001:db8::1]")));

    [Fact]
    public void Learn_SpecialPurposeWouldDeny_BecomesExactHost()
        => Assert.Equal(["=db.corp.example"], Tokens(Allowed("db.corp.example", wouldDeny: true) with { Address = "10.0.0.5", Range = "private", Outcome = EgressOutcome.NotInAllowlist }));

    [Fact]
    public void Learn_ReadsFieldsNotReasonText()
        => Assert.Equal(["db.corp.example"], Tokens(Allowed("db.corp.example", wouldDeny: true, reason: "db.corp.example resolved to 10.0.0.5, a private address")));

    [Fact]
    public void Learn_HostAllowedByExactToken_StaysExact()
        => Assert.Equal(["=internal.example.com"], Tokens(Allowed("internal.example.com", token: "=internal.example.com")));

    [Fact]
    public void Learn_NonDefaultPort_IsKeptInTheToken()
    {
        string[] tokens = Tokens(
            Allowed("127.0.0.1") with { Port = 28462 },
            Allowed("api.example.com") with { Port = 8443 },
            Allowed("intranet") with { Port = 8080 },
            Allowed("[::1]") with { Port = 9000 },
            Allowed("cdn.other.example") with { Port = 443 });

        Assert.Equal(["127.0.0.1:28462", "=intranet:8080", "[::1]:9000", "api.example.com:8443", "cdn.other.example"], tokens);
        Assert.All(tokens, t => Assert.True(EgressToken.TryParse(t, out _, out _), t));
    }

    [Fact]
    public void Learn_TwoPortsOfOneHost_StayApart()
        => Assert.Equal(["127.0.0.1:28461", "127.0.0.1:28462"], Tokens(Allowed("127.0.0.1") with { Port = 28461 }, Allowed("127.0.0.1") with { Port = 28462 }));

    [Fact]
    public void Learn_DeniedEvents_AreCountedNotLearned()
    {
        var learned = PolicyLearner.Learn([Allowed("example.com"), new EgressEvent { Action = "DENY", Host = "evil.example" }]);

        Assert.Equal(["example.com"], learned.Tokens.Select(t => t.Token));
        Assert.Equal(1, learned.DeniedHostsIgnored);
    }

    [Fact]
    public void Learn_InvalidHost_IsSkipped()
    {
        var learned = PolicyLearner.Learn([Allowed("(other)"), Allowed("bad host"), Allowed("example.com")]);

        Assert.Equal(["(other)", "bad host"], learned.Skipped);
        Assert.Equal(["example.com"], learned.Tokens.Select(t => t.Token));
    }

    [Fact]
    public void Learn_AnyHosts_EveryTokenParsesIsNoKeywordCoversItsHostsAndIsNeverATld()
    {
        var label = Gen.Char["abcxyz0"].Array[1, 4].Select(a => new string(a));
        var tld = Gen.Int[0, 4].Select(i => new[] { "com", "org", "uk", "io", "de" }[i]);
        var host = Gen.Select(label.Array[1, 3], tld).Select((labels, t) => string.Join('.', labels) + "." + t);
        host.Array[1, 12].Sample(hosts =>
        {
            var learned = PolicyLearner.Learn(hosts.Select(h => Allowed(h)));
            var matcher = new Egress.Policy.Matching.AllowlistMatcher(learned.Tokens.Select(t => EgressToken.TryParse(t.Token, out var token, out _) ? token! : throw new InvalidOperationException(t.Token)));
            return learned.Tokens.All(t => t.Token.Contains('.', StringComparison.Ordinal) || t.Token.StartsWith('='))
                && learned.Tokens.All(t => t.Token.TrimStart('=').Split('.').Length >= 2)
                && hosts.All(h => matcher.Match(new Egress.Policy.Destinations.Destination(h, 443, null)) is not null);
        }, iter: 1000);
    }
}

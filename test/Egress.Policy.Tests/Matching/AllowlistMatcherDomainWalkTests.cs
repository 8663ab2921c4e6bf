using CsCheck;
using Egress.Policy.Matching;
using Egress.Policy.Tokens;

namespace Egress.Policy.Tests.Matching;

public class AllowlistMatcherDomainWalkTests
{
    private static readonly Gen<string> Label = Gen.String[Gen.Char["ab"], 1, 3];
    private static readonly Gen<string> Name = Label.Array[1, 4].Select(labels => string.Join('.', labels));

    [Fact]
    public void MatchHost_AllowsExactlyTheHostAndSubdomainsOfTheLongestDomainToken()
    {
        // Domain tokens need a dot; a keyword-free allowlist keeps this about the suffix walk alone.
        var domain = Name.Select(n => n + ".x");
        var host = Gen.OneOf(Name.Select(n => n + ".x"), Name);
        Gen.Select(domain.Array[1, 6], host).Sample((domains, h) =>
        {
            var tokens = domains.Select(Parse).ToList();
            var matcher = new AllowlistMatcher(tokens);
            string? expected = domains
                .Where(d => h == d || h.EndsWith("." + d, StringComparison.Ordinal))
                .OrderByDescending(d => d.Length)
                .FirstOrDefault();
            return matcher.MatchHost(h, 443)?.Value == expected;
        }, iter: 20_000);
    }

    [Theory]
    [InlineData("openai.com", "api.openai.com", true)]
    [InlineData("openai.com", "openai.com", true)]
    [InlineData("openai.com", "notopenai.com", false)]
    [InlineData("openai.com", "openai.com.evil.example", false)]
    [InlineData("a.openai.com", "openai.com", false)]
    [InlineData("example.org", "example.com", false)]
    public void MatchHost_SkipsOnlySuffixesNoTokenCanEqual(string token, string host, bool allowed)
    {
        var matcher = new AllowlistMatcher([Parse(token), Parse("verylongdomainname-that-is-longer.example")]);
        Assert.Equal(allowed, matcher.MatchHost(host, 443) is not null);
    }

    private static EgressToken Parse(string text)
    {
        Assert.True(EgressToken.TryParse(text, out var token, out var error), error);
        return token!;
    }
}

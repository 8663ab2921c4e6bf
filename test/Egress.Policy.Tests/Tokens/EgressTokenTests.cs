using System.Net;
using Egress.Policy.Tokens;

namespace Egress.Policy.Tests.Tokens;

public class EgressTokenTests
{
    [Theory]
    [InlineData("openai", EgressTokenKind.Keyword, "openai", 0)]
    [InlineData(" OpenAI ", EgressTokenKind.Keyword, "openai", 0)]
    [InlineData("my-corp_internal", EgressTokenKind.Keyword, "my-corp_internal", 0)]
    [InlineData("openai.com", EgressTokenKind.Domain, "openai.com", 0)]
    [InlineData("OpenAI.COM.", EgressTokenKind.Domain, "openai.com", 0)]
    [InlineData("openai.com:443", EgressTokenKind.Domain, "openai.com", 443)]
    [InlineData("bücher.de", EgressTokenKind.Domain, "xn--bcher-kva.de", 0)]
    [InlineData("localhost:8080", EgressTokenKind.Domain, "localhost", 8080)]
    [InlineData("=api.openai.com", EgressTokenKind.ExactHost, "api.openai.com", 0)]
    [InlineData("=API.openai.com:8443", EgressTokenKind.ExactHost, "api.openai.com", 8443)]
    [InlineData("10.0.0.7", EgressTokenKind.IPNetwork, "10.0.0.7/32", 0)]
    [InlineData("10.0.0.7:8080", EgressTokenKind.IPNetwork, "10.0.0.7/32", 8080)]
    [InlineData("=10.0.0.7", EgressTokenKind.IPNetwork, "10.0.0.7/32", 0)]
    [InlineData("10.0.0.0/8", EgressTokenKind.IPNetwork, "10.0.0.0/8", 0)]
    [InlineData("10.0.0.0/8:5432", EgressTokenKind.IPNetwork, "10.0.0.0/8", 5432)]
    [InlineData("2001:db8::/32", EgressTokenKind.IPNetwork, "2001:db8::/32", 0)]
    [InlineData("2001:DB8::1", EgressTokenKind.IPNetwork, "2001:db8::1/128", 0)]
    [InlineData("[::1]", EgressTokenKind.IPNetwork, "::1/128", 0)]
    [InlineData("[::1]:8080", EgressTokenKind.IPNetwork, "::1/128", 8080)]
    [InlineData("[2001:db8::]/32:443", EgressTokenKind.IPNetwork, "2001:db8::/32", 443)]
    [InlineData("::ffff:10.0.0.1", EgressTokenKind.IPNetwork, "10.0.0.1/32", 0)]
    public void TryParse_EveryTokenForm_IsRecognised(string text, EgressTokenKind kind, string value, int port)
    {
        Assert.True(EgressToken.TryParse(text, out var token, out var error), error);
        Assert.Equal(kind, token!.Kind);
        Assert.Equal(port, token.Port);
        if (kind == EgressTokenKind.IPNetwork)
        {
            Assert.Equal(IPNetwork.Parse(value), token.Network);
        }
        else
        {
            Assert.Equal(value, token.Value);
        }

        Assert.Equal(text.Trim().ToLowerInvariant(), token.Text);
    }

    [Theory]
    [InlineData("*")]
    [InlineData("all")]
    [InlineData("ALL")]
    [InlineData("any")]
    [InlineData(" Any ")]
    [InlineData("*.openai.com")]
    [InlineData("api.*.com")]
    [InlineData("=*")]
    [InlineData("0.0.0.0/0")]
    [InlineData("0.0.0.0/0:443")]
    [InlineData("::/0")]
    [InlineData("[::]/0:443")]
    [InlineData("0.0.0.0/00")]
    [InlineData("0.0.0.0/000:80")]
    [InlineData("::/00")]
    [InlineData("[::/00]:443")]
    [InlineData("[::]/00:443")]
    [InlineData("0::/0")]
    [InlineData("0:0:0:0:0:0:0:0/0")]
    [InlineData("::0/0")]
    [InlineData("::ffff:0.0.0.0/0")]
    [InlineData("[::ffff:0:0/0]")]
    [InlineData("1.2.3.4/0")]
    [InlineData("2001:db8::/0")]
    public void TryParse_Wildcard_IsRejectedAndNamedAsWildcard(string text)
    {
        Assert.False(EgressToken.TryParse(text, out var token, out var error));
        Assert.Null(token);
        Assert.Contains("wildcard", error, StringComparison.Ordinal);
        Assert.True(EgressToken.IsWildcard(text));
    }

    [Theory]
    [InlineData("allow.example.com")]
    [InlineData("company.com")]
    [InlineData("anything")]
    public void IsWildcard_WordsContainingAllOrAny_AreNotWildcards(string text)
        => Assert.False(EgressToken.IsWildcard(text));

    [Theory]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("https://openai.com", "not a URL")]
    [InlineData("openai.com/v1", "not a URL")]
    [InlineData("user@openai.com", "not a URL")]
    [InlineData("openai.com?x", "not a URL")]
    [InlineData("open ai", "keyword")]
    [InlineData("bücher", "keyword")]
    [InlineData("a..com", "empty label")]
    [InlineData(".openai.com", "empty label")]
    [InlineData("openai.com:0", "port")]
    [InlineData("openai.com:65536", "port")]
    [InlineData("openai.com:https", "port")]
    [InlineData("10.0.0.0/33", "prefix")]
    [InlineData("10.0.0.0/-1", "prefix")]
    [InlineData("10.0.0.0/x", "prefix")]
    [InlineData("10.1.2.3/8", "bits set beyond")]
    [InlineData("2001:db8::1/32", "bits set beyond")]
    [InlineData("2001:db8::/129", "prefix")]
    [InlineData("010.0.0.0/8", "invalid IP")]
    [InlineData("256.0.0.0/8", "invalid IP")]
    [InlineData("10.0.0.0/8:99999", "bad port")]
    [InlineData("10.0.0.0/08", "leading zero")]
    [InlineData("10.0.0.0/008:443", "leading zero")]
    [InlineData("2001:db8::/032", "leading zero")]
    [InlineData("[2001:db8::/032]:443", "leading zero")]
    [InlineData("10.0.0.0/+8", "prefix")]
    [InlineData("10.0.0.0/", "prefix")]
    [InlineData("10.0.0.0/8:0443", "leading zero")]
    [InlineData("10.0.0.7:080", "leading zero")]
    [InlineData("[::1]:080", "leading zero")]
    [InlineData("openai.com:0443", "leading zero")]
    [InlineData("=api.openai.com:08443", "leading zero")]
    [InlineData("[::1]/128/128", "prefix")]
    [InlineData("10.0.0.0/8/8", "prefix")]
    [InlineData("[::1", "unterminated")]
    [InlineData("[::1]x", "bad port")]
    [InlineData("[::1]:0", "bad port")]
    [InlineData("[zz::1]", "invalid IP")]
    [InlineData("1:2:3", "invalid IP")]
    [InlineData("256.1.1.1", "out of range")]
    [InlineData("=", "empty")]
    [InlineData("=a..b", "empty label")]
    [InlineData("xn--.com", "internationalised")]
    [InlineData("a<b.com", "forbidden")]
    [InlineData("open\nai", "control characters")]
    [InlineData("openai.com\u0000", "control characters")]
    [InlineData("*\u001b[2J", "control characters")]
    public void TryParse_Malformed_IsRejectedWithAMessageThatSaysWhy(string text, string expectedFragment)
    {
        Assert.False(EgressToken.TryParse(text, out var token, out var error));
        Assert.Null(token);
        Assert.NotNull(error);
        Assert.Contains(expectedFragment, error, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("010.0.0.7", "8.0.0.7")]
    [InlineData("0x0a.0.0.7", "10.0.0.7")]
    [InlineData("10.7", "10.0.0.7")]
    [InlineData("=0177.1", "127.0.0.1")]
    [InlineData("10.0.0.07:80", "10.0.0.7")]
    public void TryParse_IPv4TokenInANonDottedQuadForm_IsRejectedNamingTheAddressItMeans(string text, string meant)
    {
        Assert.False(EgressToken.TryParse(text, out _, out var error));
        Assert.Contains(meant, error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_IPv6TokenWithZone_IsRejected()
        => Assert.False(EgressToken.TryParse("fe80::1%eth0", out _, out _));

    [Fact]
    public void TryParse_HugeToken_IsRejectedWithoutWork()
    {
        Assert.False(EgressToken.TryParse(new string('a', 1_000_000) + ".com", out _, out var error));
        Assert.Contains("too long", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_Null_IsEmptyToken()
        => Assert.False(EgressToken.TryParse(null, out _, out _));

    [Fact]
    public void AllowReason_NamesKindAndToken()
    {
        Assert.True(EgressToken.TryParse("openai.com", out var token, out _));
        Assert.Equal("allowed by domain token 'openai.com'", token!.AllowReason);
    }

    [Theory]
    [InlineData("com")]
    [InlineData("com.")]
    [InlineData("com:443")]
    [InlineData("COM.:443")]
    [InlineData("co.uk")]
    [InlineData("co.uk.")]
    [InlineData("com.au")]
    [InlineData("co.jp:443")]
    [InlineData("github.io")]
    [InlineData("github.io:443")]
    [InlineData("s3.amazonaws.com")]
    [InlineData("amazonaws.com")]
    [InlineData("xn--p1ai.")]
    [InlineData("intranet:8080")]
    public void TryParse_DomainTokenCoveringAPublicSuffix_IsRejectedSayingWhy(string text)
    {
        var t = text.EndsWith('.') || text.Contains(':') || text.Contains('.') ? text : text + ".";
        Assert.False(EgressToken.TryParse(t, out var token, out var error));
        Assert.Null(token);
        Assert.Contains("public suffix", error, StringComparison.Ordinal);
        Assert.Contains("=", error, StringComparison.Ordinal); // says how to name one host instead
    }

    [Theory]
    [InlineData("example.co.uk")]
    [InlineData("alice.github.io")]
    [InlineData("t.co")]
    [InlineData("bit.ly")]
    [InlineData("fly.io")]
    [InlineData("x.ai:443")]
    [InlineData("bucket.s3.amazonaws.com")]
    [InlineData("localhost:8080")]
    [InlineData("=com")]
    [InlineData("=github.io:443")]
    [InlineData("com")] // a keyword (its own warning), not a domain token
    public void TryParse_RegistrableDomainsExactHostsAndKeywords_AreNotPublicSuffixErrors(string text)
        => Assert.True(EgressToken.TryParse(text, out _, out var error), error);

    [Theory]
    [InlineData("0.0.0.0/1")]
    [InlineData("10.0.0.0/8")]
    [InlineData("::/1")]
    [InlineData("0.0.0.0")]
    public void IsWildcard_NetworksNarrowerThanEverything_AreNotWildcards(string text)
        => Assert.False(EgressToken.IsWildcard(text));
}

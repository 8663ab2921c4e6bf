using CsCheck;
using Egress.Policy.Configuration;
using Egress.Policy.Destinations;
using Egress.Policy.Tokens;

namespace Egress.Policy.Tests.Destinations;

public class CanonicalizationPropertyTests
{
    private static readonly Gen<char> Adversarial = Gen.Frequency(
        (20, Gen.Char['a', 'z']),
        (6, Gen.Char['0', '9']),
        (6, Gen.Char["..-:@[]/\\%#?xX"]),
        (3, Gen.Char['\u0000', '\u001f']),
        (3, Gen.Char["üßς。．｡аÖé\u200d\u200c\u00ad\u0300\u05d0\u0627ⓐ１⒈\ufffd"]),
        (2, Gen.Char),
        (1, Gen.Char['\ud800', '\udfff']));

    private static readonly Gen<string> AnyText = Gen.OneOf(
        Gen.String,
        Gen.String[Adversarial, 0, 40],
        Gen.String[Adversarial, 0, 40].Select(s => "http://" + s),
        Gen.String[Adversarial, 0, 40].Select(s => "https://user@" + s + ":443/x"),
        Gen.String[Adversarial, 0, 40].Select(s => "http://[" + s + "]/"));

    private static readonly Gen<string> Label = Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789-"], 1, 10]
        .Where(l => !l.StartsWith('-') && !l.EndsWith('-'));

    // The last label is alphabetic: a numeric one would make the name an (invalid) IPv4 address.
    private static readonly Gen<string> TopLabel = Gen.String[Gen.Char['a', 'z'], 2, 6];

    private static readonly Gen<string> DomainName = Gen.Select(Label, Gen.Bool, Label, TopLabel, (a, three, b, tld) => three ? $"{a}.{b}.{tld}" : $"{a}.{tld}");

    private static readonly EgressPolicy KeywordPolicy = EgressPolicy.Create(
        new EgressOptions { Allowlist = ["openai", "openai.com", "=api.example.com", "10.0.0.0/8", "[::1]:8080", "bücher.de:443"] }, TextWriter.Null);

    [Fact]
    public void TryParse_NeverThrows_OnArbitraryText()
        => AnyText.Sample(s =>
        {
            _ = DestinationParser.TryParse(s, out _, out _);
            _ = HostCanonicalizer.TryCanonicalize(s, out _, out _, out _);
            _ = EgressToken.TryParse(s, out _, out _);
        }, iter: 20_000);

    [Fact]
    public void Decide_NeverThrows_AndInvalidMeansDenied()
        => AnyText.Sample(s =>
        {
            var d = KeywordPolicy.Decide(s);
            Assert.NotNull(d.Reason);
            if (d.Outcome == EgressOutcome.InvalidDestination)
            {
                Assert.False(d.Allowed);
                Assert.Null(d.DestinationHost);
            }
        }, iter: 20_000);

    [Fact]
    public void TryParse_HugeInputs_NeverThrowAndAreDenied()
    {
        var gen = Gen.Select(Gen.String[Adversarial, 1, 4], Gen.Int[8_193, 3_000_000], (unit, n) => string.Concat(Enumerable.Repeat(unit, (n / unit.Length) + 1)));
        gen.Sample(s =>
        {
            Assert.False(DestinationParser.TryParse(s, out _, out _));
            Assert.False(KeywordPolicy.Decide("http://" + s).Allowed);
            Assert.False(EgressToken.TryParse(s, out _, out _));
        }, iter: 30);
    }

    [Fact]
    public void Canonicalisation_IsIdempotent()
        => AnyText.Sample(s =>
        {
            if (!DestinationParser.TryParse(s, out var first, out _))
            {
                return;
            }

            // The canonical host parses to itself, alone and as a URL with the same port.
            Assert.True(HostCanonicalizer.TryCanonicalize(first.Host, out var again, out _, out var error), $"{first.Host}: {error}");
            Assert.Equal(first.Host, again);
            Assert.True(DestinationParser.TryParse(first.ToString(), out var second, out error), $"{first}: {error}");
            Assert.Equal(first, second);
        }, iter: 20_000);

    [Fact]
    public void Canonicalisation_IsIdempotent_OnValidIdnAndIpHosts()
    {
        var hosts = Gen.OneOf(
            Gen.String[Gen.Char["abcüßςаé。．-1"], 1, 20].Select(s => "http://" + s + ".de/"),
            Gen.UInt.Select(u => $"http://{u}/"),
            Gen.Select(Gen.UShort.Array[8], a => "http://[" + string.Join(':', a.Select(x => x.ToString("x", System.Globalization.CultureInfo.InvariantCulture))) + "]/"));
        int valid = 0;
        hosts.Sample(s =>
        {
            if (DestinationParser.TryParse(s, out var first, out _))
            {
                Interlocked.Increment(ref valid);
                Assert.True(DestinationParser.TryParse(first.Host, out var second, out var error), $"{first.Host}: {error}");
                Assert.Equal(first.Host, second.Host);
            }
        }, iter: 5_000);
        Assert.True(valid > 1_000, $"only {valid} valid hosts generated");
    }

    [Fact]
    public void DomainToken_NeverMatchesAHostThatOnlyEndsWithItsText()
    {
        var gen = Gen.Select(DomainName, Gen.String[Gen.Char["abcxyz019-_"], 1, 8]);
        gen.Sample((domain, prefix) =>
        {
            if (!EgressToken.TryParse(domain, out _, out _))
            {
                return; // an invalid token (e.g. a public suffix such as ad.uj) matches nothing; EgressTokenTests cover that
            }

            using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = [domain] }, TextWriter.Null);
            Assert.False(policy.Decide(prefix + domain).Allowed, $"{domain} matched {prefix}{domain}");
            Assert.False(policy.Decide("https://" + prefix + domain + "/").Allowed);
            Assert.True(policy.Decide(prefix + "." + domain).Allowed, $"{domain} did not match {prefix}.{domain}");
            Assert.True(policy.Decide(domain).Allowed);
        }, iter: 2_000);
    }

    [Fact]
    public void ExactToken_NeverMatchesSubdomainsOrParents()
    {
        var gen = Gen.Select(DomainName, Label);
        gen.Sample((host, sub) =>
        {
            using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = ["=" + host] }, TextWriter.Null);
            Assert.True(policy.Decide(host).Allowed);
            Assert.False(policy.Decide(sub + "." + host).Allowed, $"={host} matched {sub}.{host}");
            Assert.False(policy.Decide(host[(host.IndexOf('.') + 1)..]).Allowed);
        }, iter: 2_000);
    }

    [Fact]
    public void KeywordToken_MatchesExactlyTheNamesContainingIt_AndNoIpLiteral()
    {
        var gen = Gen.Select(Gen.String[Gen.Char["abc"], 1, 3], DomainName.Select(d => d.Replace('-', 'a')), Gen.UInt);
        gen.Sample((keyword, host, ip) =>
        {
            using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = [keyword] }, TextWriter.Null);
            Assert.Equal(host.Contains(keyword, StringComparison.Ordinal), policy.Decide(host).Allowed);
            Assert.False(policy.Decide($"http://{ip}/").Allowed);
        }, iter: 3_000);
    }

    // /0 is a wildcard and rejected (EgressTokenTests); every other prefix length is exercised here.
    [Fact]
    public void CidrToken_MatchesExactlyTheAddressesInside()
    {
        var gen = Gen.Select(Gen.UInt, Gen.Int[1, 32], Gen.UInt);
        gen.Sample((network, bits, candidate) =>
        {
            uint mask = bits == 0 ? 0 : uint.MaxValue << (32 - bits);
            uint net = network & mask;
            string token = $"{Dotted(net)}/{bits}";
            using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = [token] }, TextWriter.Null);
            Assert.Equal((candidate & mask) == net, policy.Decide(Dotted(candidate)).Allowed);
            Assert.True(policy.Decide($"http://{net}/").Allowed); // decimal form of the network address
        }, iter: 3_000);

        static string Dotted(uint v) => $"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}";
    }
}

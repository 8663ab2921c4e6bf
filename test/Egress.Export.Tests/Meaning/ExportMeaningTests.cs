using System.Net;
using CsCheck;
using Egress.Policy;
using Egress.Policy.Destinations;

namespace Egress.Export.Tests.Meaning;

/// <summary>
/// Which hosts and ports each generated rule admits, read independently of the exporter
/// (<see cref="EngineModels"/>), compared with our policy on a generated corpus: never wider, and
/// narrower only where the export says so.
/// </summary>
public sealed class ExportMeaningTests
{
    private static readonly string[] Lock =
    [
        "example.com", "=api.other.org", "=db.internal.example:5432", "pinned.example:8443", "xn--bcher-kva.de",
        "203.0.113.0/24", "198.51.100.7", "10.1.0.0/16", "[2001:db8::1]", "8.8.8.0/24:53",
    ];

    // Destinations: names built around the tokens (subdomains, look-alikes, deeper levels), each with an
    // address that is public, inside an IP token, or special-purpose (private, loopback, metadata).
    private static readonly Gen<string> Names = Gen.OneOf(
        Pick("example.com", "a.example.com", "a.b.example.com", "a.b.c.example.com", "a.b.c.d.example.com", "notexample.com", "example.com.evil",
            "api.other.org", "x.api.other.org", "other.org", "db.internal.example", "pinned.example", "x.pinned.example", "xn--bcher-kva.de", "www.xn--bcher-kva.de", "bucher.de"),
        Gen.Select(Gen.Char["abcxyz0-"].Array[1, 6].Select(a => new string(a)), Pick("example.com", "other.org", "pinned.example"), (l, d) => l.Trim('-') is { Length: > 0 } t ? t + "." + d : d));

    private static readonly Gen<IPAddress> Addresses = Pick(
        "93.184.216.34", "203.0.113.9", "198.51.100.7", "198.51.100.8", "10.1.2.3", "10.2.0.1", "127.0.0.1", "169.254.169.254", "192.168.1.1", "8.8.8.8",
        "2001:db8::1", "2001:db8::2", "2606:2800:220:1::1", "fd00:ec2::254").Select(IPAddress.Parse);

    private static readonly Gen<int> Ports = Pick(80, 443, 53, 5432, 8443, 22, 65535);

    [Fact]
    public void Cilium_NeverAdmitsWhatThePolicyDenies_AndNarrowsOnlyWhereItSays()
    {
        var lock_ = Lock;
        var result = Corpus.Export("cilium", lock_);
        Assert.True(result.Succeeded, string.Join('\n', result.Errors));
        var cnp = Assert.Single(YamlJson.Documents(result.Text));
        using var policy = Corpus.Policy(lock_);
        int admitted = 0;
        Gen.Select(Gen.Bool, Names, Addresses, Ports).Sample((literal, name, address, port) =>
        {
            string? host = literal ? null : name;
            bool ours = OursAtL3(policy, host, address, port);
            bool cilium = EngineModels.CiliumAdmits(cnp, host, address, port);
            Assert.False(cilium && !ours, $"WIDER: cilium admits {host ?? "(literal)"} -> {address}:{port}, the policy denies it");
            if (ours && !cilium)
            {
                // Documented narrowings only: deeper than the matchPattern depth, or an exact host reaching a special-purpose address.
                bool deep = host is not null && host.Count(c => c == '.') - 1 > Exporters.CiliumExporter.SubdomainDepth;
                bool exactToSpecial = host is not null && SpecialPurposeAddresses.IsSpecialPurpose(address);
                Assert.True(deep || exactToSpecial, $"undocumented narrowing: {host ?? "(literal)"} -> {address}:{port}");
            }

            admitted += cilium ? 1 : 0;
        }, iter: 3000);
        Assert.True(admitted > 50, "the corpus must reach admitted cases");
    }

    [Fact]
    public void NetworkPolicy_AdmitsExactlyTheIpTokens()
    {
        var lock_ = Lock.Where(t => EgressTokenIsIp(t)).ToArray();
        var result = Corpus.Export("networkpolicy", lock_);
        Assert.True(result.Succeeded, string.Join('\n', result.Errors));
        var np = Assert.Single(YamlJson.Documents(result.Text));
        using var policy = Corpus.Policy(lock_);
        Gen.Select(Addresses, Ports).Sample((address, port) =>
            Assert.Equal(Ours(policy, null, address, port), EngineModels.NetworkPolicyAdmits(np, address, port)), iter: 500);
    }

    [Fact]
    public void Istio_AdmitsExactlyTheExactHostsAndIpTokensOnTheirPorts()
    {
        var lock_ = new[] { "=api.other.org:443", "=db.internal.example:5432", "=plain.example:80", "203.0.113.0/24:443", "[2001:db8::1]:8443" };
        var result = Corpus.Export("istio", lock_);
        Assert.True(result.Succeeded, string.Join('\n', result.Errors));
        var objects = YamlJson.Documents(result.Text);
        using var policy = Corpus.Policy(lock_);
        Gen.Select(Gen.Bool, Gen.OneOf(Names, Pick("api.other.org", "db.internal.example", "plain.example")), Addresses, Pick(80, 443, 5432, 8443, 22)).Sample((literal, name, address, port) =>
        {
            string? host = literal ? null : name;
            Assert.Equal(OursAtL3(policy, host, address, port), EngineModels.IstioAdmits(objects, host, address, port));
        }, iter: 1500);
    }

    [Fact]
    public void Istio_LossyDropsDomainsAndPortlessTokens_ThenAdmitsOnlyNarrower()
    {
        var result = Corpus.Export("istio", new ExportOptions { Lossy = true }, Lock);
        Assert.True(result.Succeeded);
        Assert.Contains(result.Dropped, d => d.Token == "example.com");
        Assert.Contains(result.Dropped, d => d.Token == "10.1.0.0/16");
        var objects = YamlJson.Documents(result.Text);
        using var policy = Corpus.Policy(Lock);
        Gen.Select(Gen.Bool, Names, Addresses, Ports).Sample((literal, name, address, port) =>
        {
            string? host = literal ? null : name;
            Assert.False(EngineModels.IstioAdmits(objects, host, address, port) && !OursAtL3(policy, host, address, port), $"WIDER: {host} {address}:{port}");
        }, iter: 1500);
    }

    private static Gen<T> Pick<T>(params T[] items) => Gen.Int[0, items.Length - 1].Select(i => items[i]);

    private static bool EgressTokenIsIp(string token) => Policy.Tokens.EgressToken.TryParse(token, out var t, out _) && t!.Kind == Policy.Tokens.EgressTokenKind.IPNetwork;

    /// <summary>
    /// What our policy lets reach <paramref name="address"/>:<paramref name="port"/>: the name (resolved there), or the
    /// address itself. An engine that decides on addresses cannot tell the two apart, and need not: a client
    /// allowed to dial the address directly gains nothing by looking a name up first.
    /// </summary>
    private static bool OursAtL3(EgressPolicy policy, string? host, IPAddress address, int port)
        => Ours(policy, host, address, port) || (host is not null && Ours(policy, null, address, port));

    /// <summary>Our decision for a connection: by name (resolved to <paramref name="address"/>) or to the literal address.</summary>
    private static bool Ours(EgressPolicy policy, string? host, IPAddress address, int port)
    {
        string text = host ?? (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString());
        Assert.True(DestinationParser.TryParse($"{text}:{port}", out var destination, out var error), error);
        return host is null ? policy.Decide(destination).Allowed : policy.DecideAddress(destination, address).Allowed;
    }
}

using System.Globalization;
using System.Net;
using System.Text;
using Egress.Policy;
using Egress.Policy.Destinations;
using Egress.TestUtils;

namespace Egress.Export.Tests.Squid;

/// <summary>
/// The Squid export, judged by the real thing: <c>squid -k parse</c> accepts it, and a real squid serving
/// it decides every case of the corpus (plain absolute-form GET and CONNECT, through curl) exactly as our
/// policy does, with names mapped to loopback addresses by squid's own hosts_file.
/// </summary>
public sealed class SquidExportTests
{
    private static readonly IPAddress A2 = IPAddress.Parse("127.0.0.2");
    private static readonly IPAddress A3 = IPAddress.Parse("127.0.0.3");
    private static readonly IPAddress A4 = IPAddress.Parse("127.0.0.4");
    private static readonly IPAddress A9 = IPAddress.Parse("127.0.0.9");
    private static readonly IPAddress A12 = IPAddress.Parse("127.0.0.12");
    private static readonly IPAddress[] Addresses = [A2, A3, A4, A9, A12, IPAddress.IPv6Loopback];

    [Theory]
    [InlineData("example.com", "=api.other.org:443", "10.0.0.0/8", "192.0.2.7:8443", "[2001:db8::1]:443", "xn--bcher-kva.de", "169.254.169.254")]
    [InlineData("a.example", "b.example:8080", "=c.example", "=d.example:9000", "127.0.0.0/8", "::1", "[::1]:8443")]
    [InlineData("=only.example")]
    public async Task SquidParse_AcceptsTheExport_WithoutWarnings(params string[] lock_)
    {
        var result = Corpus.Export("squid", lock_);
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        var parse = await SquidProcess.ParseAsync(result.Text);
        Assert.True(parse.ExitCode == 0, parse.StdErr + parse.StdOut);
        var output = parse.StdErr + parse.StdOut;
        Assert.DoesNotContain("WARNING", output, StringComparison.Ordinal);
        Assert.DoesNotContain("ERROR", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SquidParse_RejectsABrokenRule_SoTheParseTestCanFail()
    {
        var parse = await SquidProcess.ParseAsync("acl x dstdomain -n .example.com\nhttp_access allow y\n");
        Assert.NotEqual(0, parse.ExitCode);
    }

    [Fact]
    public async Task RealSquid_DecidesNamesLikeThePolicy()
    {
        using var servers = LoopbackHttpServers.Start(Addresses);
        int p1 = servers.Port1, p2 = servers.Port2;
        string[] lock_ = ["allowed.example", "=exact.example", $"=port.example:{p2}", $"ported.example:{p1}", "xn--bcher-kva.example", "127.0.0.0/8"];
        var hosts = new Dictionary<string, IPAddress>(StringComparer.Ordinal);
        foreach (var name in new[]
        {
            "allowed.example", "sub.allowed.example", "deep.sub.allowed.example", "notallowed.example", "allowed.example.evil",
            "xallowed.example", "exact.example", "sub.exact.example", "port.example", "ported.example", "x.ported.example",
            "other.example", "xn--bcher-kva.example", "sub.xn--bcher-kva.example",
        })
        {
            hosts[name] = A2;
        }

        var urls = new List<string>();
        foreach (var host in hosts.Keys.Append("ALLOWED.Example").Append("Sub.Exact.EXAMPLE").Append("bücher.example").Append("127.0.0.2"))
        {
            urls.Add($"http://{host}:{p1}/");
            urls.Add($"http://{host}:{p2}/");
        }

        await AssertSquidMatchesPolicy(lock_, hosts, urls, minAllowed: 10, minDenied: 10);
    }

    [Fact]
    public async Task RealSquid_DecidesAddressesAndTheSpecialPurposeGuardLikeThePolicy()
    {
        using var servers = LoopbackHttpServers.Start(Addresses);
        int p1 = servers.Port1, p2 = servers.Port2;
        string[] lock_ = ["guarded.example", "named.example", "portnamed.example", "=exactguard.example", "127.0.0.3", $"127.0.0.4:{p1}", "127.0.0.8/30", $"[::1]:{p1}"];
        var hosts = new Dictionary<string, IPAddress>(StringComparer.Ordinal)
        {
            // A domain token's name resolving to loopback: denied unless an IP token names that address.
            ["guarded.example"] = A2,
            ["sub.guarded.example"] = A12,
            ["named.example"] = A3,
            ["sub.named.example"] = A9,
            ["portnamed.example"] = A4,
            // An exact-host token may reach a special-purpose address.
            ["exactguard.example"] = A2,
            ["unlisted.example"] = A3,
        };
        var urls = new List<string>();
        foreach (var host in hosts.Keys.Concat(["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.9", "127.0.0.12", "[::1]"]))
        {
            urls.Add($"http://{host}:{p1}/");
            urls.Add($"http://{host}:{p2}/");
        }

        await AssertSquidMatchesPolicy(lock_, hosts, urls, minAllowed: 8, minDenied: 8);
    }

    private static async Task AssertSquidMatchesPolicy(string[] lock_, Dictionary<string, IPAddress> hosts, List<string> urls, int minAllowed, int minDenied)
    {
        var export = Corpus.Export("squid", lock_);
        Assert.True(export.Succeeded, string.Join("\n", export.Errors));
        using var policy = Corpus.Policy(lock_);
        var hostsFile = new StringBuilder();
        foreach (var (name, address) in hosts)
        {
            hostsFile.Append(CultureInfo.InvariantCulture, $"{address} {name}\n");
        }

        using var squid = await SquidProcess.StartAsync(export.Text, hostsFile.ToString());
        var mismatches = new List<string>();
        int allowed = 0, denied = 0;
        foreach (var url in urls)
        {
            bool expected = Oracle(policy, url, hosts);
            foreach (bool connect in new[] { false, true })
            {
                bool actual = await ThroughSquid(squid.Port, url, connect);
                if (actual != expected)
                {
                    mismatches.Add($"{(connect ? "CONNECT" : "GET")} {url}: policy {(expected ? "allows" : "denies")}, squid {(actual ? "allows" : "denies")}");
                }

                (expected ? ref allowed : ref denied)++;
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches) + "\n--- rules\n" + export.Text + "\n--- access.log\n" + squid.AccessLog);
        Assert.True(allowed >= minAllowed && denied >= minDenied, $"the corpus must exercise both outcomes: {allowed} allowed, {denied} denied");
    }

    /// <summary>Our decision, with the name resolved through the same mapping squid uses.</summary>
    private static bool Oracle(EgressPolicy policy, string url, Dictionary<string, IPAddress> hosts)
    {
        Assert.True(DestinationParser.TryParse(url, out var destination, out var error), error);
        if (destination.Address is not null)
        {
            return policy.Decide(destination).Allowed;
        }

        return policy.DecideAddress(destination, hosts[destination.Host]).Allowed;
    }

    /// <summary>Sends <paramref name="url"/> through squid with curl: true when the loopback server answered, false when squid refused (403).</summary>
    private static async Task<bool> ThroughSquid(int proxyPort, string url, bool connect)
    {
        var args = new List<string> { "-s", "-o", "/dev/null", "--max-time", "10", "-w", "%{http_connect} %{http_code}", "-x", $"http://127.0.0.1:{proxyPort}" };
        if (connect)
        {
            args.Add("-p");
        }

        args.Add(url);
        var env = new Dictionary<string, string?> { ["http_proxy"] = null, ["https_proxy"] = null, ["HTTPS_PROXY"] = null, ["no_proxy"] = null, ["NO_PROXY"] = null, ["ALL_PROXY"] = null };
        var result = await ProcessRunner.RunAsync("curl", args, env, timeout: TimeSpan.FromSeconds(20));
        var codes = result.StdOut.Trim();
        return codes switch
        {
            "000 200" or "200 200" => true,
            "000 403" or "403 000" => false,
            _ => throw new Xunit.Sdk.XunitException($"{(connect ? "CONNECT" : "GET")} {url}: unexpected curl result '{codes}' (exit {result.ExitCode}) {result.StdErr}"),
        };
    }
}

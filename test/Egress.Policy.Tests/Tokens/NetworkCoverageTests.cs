using System.Net;
using System.Net.Sockets;
using CsCheck;
using Egress.Policy.Configuration;
using Egress.Policy.Locking;
using Egress.Policy.Tokens;
using Egress.Policy.Verification;

namespace Egress.Policy.Tests.Tokens;

/// <summary>
/// IP/CIDR tokens that together cover a whole family are rejected like a single /0; a set that misses even
/// one address is not.
/// </summary>
public sealed class NetworkCoverageTests
{
    /// <summary>A random partition of a family into networks, and whether to punch a one-address hole in it.</summary>
    private static readonly Gen<(AddressFamily Family, List<IPNetwork> Networks, IPAddress? Missing)> Sets =
        Gen.Select(Gen.Bool, Gen.UInt.Array[8, 64], Gen.Bool, (v6, choices, hole) => Build(v6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, choices, hole));

    [Fact]
    public void Covers_IsTrueExactlyWhenTheUnionIsTheWholeFamily()
        => Sets.Sample(set =>
        {
            Assert.Equal(set.Missing is null, NetworkCoverage.Covers(set.Networks, set.Family));
            if (set.Missing is { } missing)
            {
                Assert.DoesNotContain(set.Networks, n => n.Contains(missing)); // the construction is right
            }
        }, iter: 5_000);

    [Fact]
    public void Policy_RejectsACoveringSetAsItRejectsSlashZero_AndKeepsASetWithAHole()
        => Sets.Sample(set =>
        {
            var texts = set.Networks.Select(n => n.ToString()).Distinct().ToList();
            using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = [.. texts, "example.com"] }, TextWriter.Null);
            var ip = policy.Matcher.Tokens.Where(t => t.Kind == EgressTokenKind.IPNetwork).ToList();
            if (set.Missing is null)
            {
                var error = Assert.Single(policy.TokenErrors);
                Assert.Contains("together cover every", error.Message, StringComparison.Ordinal);
                Assert.Empty(ip); // fail closed: the group takes no part in matching
                Assert.False(policy.Decide(set.Family == AddressFamily.InterNetwork ? "http://127.0.0.1/" : "http://[::1]/").Allowed);
            }
            else
            {
                Assert.Empty(policy.TokenErrors);
                Assert.Equal(texts.Count, ip.Count);
            }

            Assert.True(policy.Decide("https://api.example.com/").Allowed);
        }, iter: 300);

    [Theory]
    [InlineData("0.0.0.0/1,128.0.0.0/1", "every IPv4 address")]
    [InlineData("::/1,8000::/1", "every IPv6 address")]
    [InlineData("0.0.0.0/2,64.0.0.0/2,128.0.0.0/1", "every IPv4 address")]
    [InlineData("0.0.0.0/1,0.0.0.0/2,128.0.0.0/1:443", "every IPv4 address, as 0.0.0.0/0 would on port 443")]
    public void Policy_CoveringSet_IsARule3ErrorInCi(string allowlist, string says)
    {
        using var policy = EgressPolicy.Create(new EgressOptions { IsCi = true, Allowlist = [.. allowlist.Split(',')] }, TextWriter.Null);

        var error = Assert.Single(policy.TokenErrors);
        Assert.Contains(says, error.Message, StringComparison.Ordinal);
        Assert.Empty(policy.Matcher.Tokens);
        var result = PolicyVerifier.Verify(policy, PolicyVerifier.CollectEvents(policy), Path.GetTempPath());
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(result.Errors, e => e.Rule == 3 && e.Message.StartsWith("EGRESS_ALLOWLIST: tokens '", StringComparison.Ordinal));
    }

    [Fact]
    public void Policy_TwoPortsEachCovered_AreBothReported()
    {
        using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = ["0.0.0.0/1", "128.0.0.0/1:80", "128.0.0.0/1:443", "example.com"] }, TextWriter.Null);

        Assert.Equal(["0.0.0.0/1,128.0.0.0/1:80", "0.0.0.0/1,128.0.0.0/1:443"], policy.TokenErrors.Select(e => e.Token));
        Assert.Equal(["example.com"], policy.Matcher.Tokens.Select(t => t.Text));
    }

    [Theory]
    [InlineData("0.0.0.0/1,128.0.0.0/2,192.0.0.0/3,224.0.0.0/4,240.0.0.0/5,248.0.0.0/6,252.0.0.0/7,254.0.0.0/8,255.0.0.0/9")]
    [InlineData("0.0.0.0/1:443,128.0.0.0/1:80")] // every address, but no port reaches all of them
    [InlineData("::/1,8000::/2")]
    public void Policy_SetThatMissesAddresses_IsKept(string allowlist)
    {
        using var policy = EgressPolicy.Create(new EgressOptions { Allowlist = [.. allowlist.Split(',')] }, TextWriter.Null);

        Assert.Empty(policy.TokenErrors);
        Assert.Equal(allowlist.Split(',').Length, policy.Matcher.Tokens.Count);
    }

    [Fact]
    public void LockFile_LinesThatTogetherCoverAFamily_AreAWildcardProblemAtTheFirstLine()
    {
        var content = LockFile.ParseContent("# reviewed\nexample.com\n0.0.0.0/1\n10.0.0.0/8\n128.0.0.0/1\n");

        var problem = Assert.Single(content.Problems);
        Assert.Equal(3, problem.Line);
        Assert.True(problem.IsWildcard);
        Assert.Contains("'0.0.0.0/1', '10.0.0.0/8', '128.0.0.0/1' together cover every IPv4 address", problem.Message, StringComparison.Ordinal);
        Assert.Empty(LockFile.ParseContent("0.0.0.0/1\n128.0.0.0/2\n").Problems);
    }

    [Fact]
    public void AllowlistTokens_IsThePolicysParser_AndRejectsTheGroup()
    {
        var tokens = AllowlistTokens.Parse(["example.com", "::/1", "8000::/1", "bad host!"], out var errors);

        Assert.Equal(["example.com"], tokens.Select(t => t.Text));
        Assert.Equal(2, errors.Length);
        Assert.Equal("::/1,8000::/1", errors[1].Token);
    }

    private static (AddressFamily, List<IPNetwork>, IPAddress?) Build(AddressFamily family, uint[] choices, bool hole)
    {
        int bits = family == AddressFamily.InterNetwork ? 32 : 128;
        int next = 0;
        uint Next() => choices[next++ % choices.Length];
        var leaves = new List<(UInt128 Start, int Prefix)>();

        void Split(UInt128 start, int prefix)
        {
            // The whole family is always split (a single /0 is a wildcard token, tested elsewhere).
            bool split = prefix == 0 || (prefix < 10 && Next() % 3 != 0);
            if (!split)
            {
                leaves.Add((start, prefix));
                return;
            }

            Split(start, prefix + 1);
            Split(start + (UInt128.One << (bits - prefix - 1)), prefix + 1);
        }

        Split(0, 0);
        IPAddress? missing = null;
        if (hole)
        {
            // Replace one leaf by the halves that avoid one address inside it, down to a single address.
            int at = (int)(Next() % (uint)leaves.Count);
            var (start, prefix) = leaves[at];
            leaves.RemoveAt(at);
            UInt128 offset = ((UInt128)Next() << 96 | (UInt128)Next() << 64 | (UInt128)Next() << 32 | Next()) & ((UInt128.One << (bits - prefix)) - 1);
            UInt128 address = start + offset;
            for (int p = prefix + 1; p <= bits; p++)
            {
                UInt128 half = UInt128.One << (bits - p);
                UInt128 mine = address & ~(half - 1) & Mask(bits);
                leaves.Add((mine ^ half, p)); // the sibling half, which does not hold the address
            }

            missing = ToAddress(address, family);
        }

        // Duplicates and a shuffled order must not change the answer.
        var networks = leaves.Select(l => new IPNetwork(ToAddress(l.Start, family), l.Prefix)).ToList();
        networks.AddRange(networks.Where((_, i) => Next() % 5 == 0).ToList());
        networks = [.. networks.OrderBy(_ => Next())];
        return (family, networks, missing);
    }

    private static UInt128 Mask(int bits) => bits == 128 ? UInt128.MaxValue : (UInt128.One << bits) - 1;

    private static IPAddress ToAddress(UInt128 value, AddressFamily family)
    {
        int length = family == AddressFamily.InterNetwork ? 4 : 16;
        var bytes = new byte[length];
        for (int i = length - 1; i >= 0; i--)
        {
            bytes[i] = (byte)(value & 0xff);
            value >>= 8;
        }

        return new IPAddress(bytes);
    }
}

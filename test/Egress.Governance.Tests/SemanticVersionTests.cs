using CsCheck;
using Egress.Cli.Governance;

namespace Egress.Governance.Tests;

public class SemanticVersionTests
{
    private static SemanticVersion V(string text) => SemanticVersion.TryParse(text, out var v) ? v : throw new ArgumentException(text);

    [Theory]
    [InlineData("1.0.0-alpha", "1.0.0")]
    [InlineData("1.0.0-alpha", "1.0.0-alpha.1")]
    [InlineData("1.0.0-alpha.1", "1.0.0-alpha.beta")]
    [InlineData("1.0.0-alpha.beta", "1.0.0-beta")]
    [InlineData("1.0.0-beta", "1.0.0-beta.2")]
    [InlineData("1.0.0-beta.2", "1.0.0-beta.11")]
    [InlineData("1.0.0-beta.11", "1.0.0-rc.1")]
    [InlineData("1.0.0-rc.1", "1.0.0")]
    [InlineData("6.3.0", "6.3.1")]
    [InlineData("6.9.9", "6.10.0")]
    [InlineData("9.99.99", "10.0.0")]
    [InlineData("5.6.7", "5.6.7.1")]
    [InlineData("7.0.0-rc.1", "7.0.0")]
    [InlineData("2.0.0-preview.9", "2.0.0-preview.10")]
    [InlineData("1.0.0-99999999999999999999", "1.0.0-100000000000000000000")]
    public void Compare_SemVerPrecedence_OrdersLowerFirst(string lower, string higher)
    {
        Assert.True(V(lower) < V(higher), $"{lower} < {higher}");
        Assert.True(V(higher) > V(lower), $"{higher} > {lower}");
        Assert.NotEqual(V(lower), V(higher));
    }

    [Theory]
    [InlineData("1.2", "1.2.0")]
    [InlineData("1.2.0", "1.2.0.0")]
    [InlineData("1.2.3+build.5", "1.2.3")]
    [InlineData("1.2.3-RC.1", "1.2.3-rc.1")]
    [InlineData("01.2.3", "1.2.3")]
    public void Compare_EquivalentForms_AreEqual(string a, string b)
    {
        Assert.Equal(0, V(a).CompareTo(V(b)));
        Assert.Equal(V(a), V(b));
        Assert.Equal(V(a).GetHashCode(), V(b).GetHashCode());
    }

    [Theory]
    [InlineData("")]
    [InlineData("v1.2.3")]
    [InlineData("1.2.3.4.5")]
    [InlineData("1..2")]
    [InlineData("1.2.")]
    [InlineData("1.2.3-")]
    [InlineData("1.2.3-alpha..1")]
    [InlineData("1.2.3-01")]
    [InlineData("1.2.3+")]
    [InlineData("1.2.3-al_pha")]
    [InlineData("1.*")]
    [InlineData("1.2.x")]
    [InlineData("-1.2.3")]
    [InlineData("99999999999.0.0")]
    [InlineData(" 1.2.3")]
    [InlineData("1.2.3 ")]
    [InlineData("１.2.3")]
    [InlineData("[1.2.3]")]
    public void TryParse_Malformed_ReturnsFalse(string text) => Assert.False(SemanticVersion.TryParse(text, out _));

    [Fact]
    public void TryParse_ArbitraryText_NeverThrowsAndKeepsText()
        => Gen.String.Sample(s =>
        {
            if (SemanticVersion.TryParse(s, out var v))
            {
                Assert.Equal(s, v.Text);
            }
        });

    private static readonly Gen<string> Identifier = Gen.OneOf(
        Gen.Int[0, 30].Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Gen.String[Gen.Char["abcxyz-"], 1, 4].Where(s => !s.All(char.IsAsciiDigit)));

    private static readonly Gen<string> Version =
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, 3], Gen.Int[0, 3], Identifier.Array[0, 3])
           .Select((a, b, c, pre) => $"{a}.{b}.{c}" + (pre.Length == 0 ? string.Empty : "-" + string.Join('.', pre)));

    [Fact]
    public void Compare_GeneratedVersions_IsAntisymmetricAndConsistentWithEquality()
        => Gen.Select(Version, Version).Sample((x, y) =>
        {
            var a = V(x);
            var b = V(y);
            Assert.Equal(Math.Sign(a.CompareTo(b)), -Math.Sign(b.CompareTo(a)));
            Assert.Equal(a.CompareTo(b) == 0, a.Equals(b));
            if (a.Equals(b))
            {
                Assert.Equal(a.GetHashCode(), b.GetHashCode());
            }
        });

    [Fact]
    public void Compare_GeneratedVersions_IsTransitive()
        => Gen.Select(Version, Version, Version).Sample((x, y, z) =>
        {
            var s = new[] { V(x), V(y), V(z) }.Order().ToArray();
            Assert.True(s[0] <= s[1] && s[1] <= s[2] && s[0] <= s[2]);
        });

    [Fact]
    public void Compare_AnyPreRelease_IsBelowItsRelease()
        => Gen.Select(Gen.Int[0, 50], Gen.Int[0, 50], Gen.Int[0, 50], Identifier.Array[1, 3]).Sample((a, b, c, pre) =>
        {
            var release = V($"{a}.{b}.{c}");
            var preRelease = V($"{a}.{b}.{c}-{string.Join('.', pre)}");
            Assert.True(preRelease < release);
            Assert.True(preRelease.IsPreRelease);
        });
}

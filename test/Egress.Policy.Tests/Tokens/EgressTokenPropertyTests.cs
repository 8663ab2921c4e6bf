using CsCheck;
using Egress.Policy.Tokens;

namespace Egress.Policy.Tests.Tokens;

public class EgressTokenPropertyTests
{
    private static readonly Gen<string> Address = Gen.OneOf(
        Gen.Const("0.0.0.0"), Gen.Const("10.0.0.0"), Gen.Const("::"), Gen.Const("0::"), Gen.Const("::0"),
        Gen.Const("0:0:0:0:0:0:0:0"), Gen.Const("::ffff:0.0.0.0"), Gen.Const("2001:db8::"), Gen.Const("1.2.3.4"));

    // Prefix spellings: any number of leading zeros, then an optional value.
    private static readonly Gen<string> Prefix = Gen.Select(Gen.Int[0, 4], Gen.OneOf(Gen.Const(""), Gen.Int[0, 130].Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        (zeros, value) => new string('0', zeros) + value);

    private static readonly Gen<string> Token = Gen.Select(Address, Prefix, Gen.OneOf(Gen.Const(""), Gen.Const(":443"), Gen.Const(":0443")), Gen.Int[0, 2],
        (address, prefix, port, form) => form switch
        {
            0 when address.Contains(':') && port.Length > 0 => $"[{address}/{prefix}]{port}",
            1 when address.Contains(':') && port.Length > 0 => $"[{address}]/{prefix}{port}",
            _ when address.Contains(':') => $"{address}/{prefix}",
            _ => $"{address}/{prefix}{port}",
        });

    [Fact]
    public void TryParse_AcceptedNetworkToken_IsNeverSlashZeroAndIsSpelledCanonically()
        => Token.Sample(t =>
        {
            if (EgressToken.TryParse(t, out var token, out _))
            {
                Assert.NotEqual(0, token!.Network!.Value.PrefixLength);
                Assert.False(EgressToken.IsWildcard(t));
                Assert.DoesNotContain("/0", t, StringComparison.Ordinal);
                Assert.DoesNotContain(":0443", t, StringComparison.Ordinal);
            }
        }, iter: 20_000);

    [Fact]
    public void IsWildcard_IsTrueExactlyWhenThePrefixValueIsZero()
        => Token.Sample(t =>
        {
            int slash = t.IndexOf('/');
            var digits = new string([.. t[(slash + 1)..].TakeWhile(char.IsAsciiDigit)]);
            bool zero = digits.Length > 0 && digits.All(c => c == '0');
            Assert.Equal(zero, EgressToken.IsWildcard(t));
            if (zero)
            {
                Assert.False(EgressToken.TryParse(t, out _, out var error));
                Assert.Contains("wildcard", error, StringComparison.Ordinal);
            }
        }, iter: 20_000);
}

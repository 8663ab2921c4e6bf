using System.Net;
using CsCheck;
using Egress.Export.Addressing;

namespace Egress.Export.Tests.Pipeline;

/// <summary>CIDR subtraction and IPv6 formatting, by property.</summary>
public sealed class NetworkMathTests
{
    private static readonly Gen<IPAddress> V4 = Gen.UInt.Select(u => new IPAddress(BitConverter.GetBytes(u)));

    private static readonly Gen<IPNetwork> V4Network = Gen.Select(V4, Gen.Int[8, 32], (a, bits) => new IPNetwork(Mask(a, bits), bits));

    [Fact]
    public void Subtract_KeepsExactlyTheAddressesOutsideTheHoles()
    {
        Gen.Select(V4Network, V4Network.Array[0, 4], V4).Sample((range, holes, probe) =>
        {
            var rest = NetworkMath.Subtract(range, holes);
            bool expected = range.Contains(probe) && !holes.Any(h => h.Contains(probe));
            Assert.Equal(expected, rest.Any(n => n.Contains(probe)));
            // Inside holes or outside the range, nothing remains.
            foreach (var hole in holes)
            {
                Assert.DoesNotContain(rest, n => NetworkMath.Overlaps(n, hole));
            }
        }, iter: 5000);
    }

    [Fact]
    public void Format_Ipv6_IsHexGroupsThatParseBack()
    {
        Gen.Byte.Array[16].Sample(bytes =>
        {
            var address = new IPAddress(bytes);
            var text = NetworkMath.Format(address);
            Assert.DoesNotContain('.', text);
            Assert.Equal(address, IPAddress.Parse(text));
            Assert.Equal(text.ToLowerInvariant(), text);
        }, iter: 5000);
        Assert.Equal("::100:0", NetworkMath.Format(IPAddress.Parse("::1.0.0.0")));
        Assert.Equal("::ffff:0:0:0", NetworkMath.Format(IPAddress.Parse("::ffff:0:0:0")));
        Assert.Equal("2001:db8::1", NetworkMath.Format(IPAddress.Parse("2001:db8:0:0:0:0:0:1")));
    }

    private static IPAddress Mask(IPAddress a, int bits)
    {
        var b = a.GetAddressBytes();
        for (int i = bits; i < 32; i++)
        {
            b[i / 8] &= (byte)~(0x80 >> (i % 8));
        }

        return new IPAddress(b);
    }
}

using CsCheck;
using Egress.Policy.Destinations;

namespace Egress.Http.Tests;

/// <summary>
/// The hooks read the host from <see cref="Uri.Host"/> (diagnostics and metrics) while SocketsHttpHandler
/// dials <see cref="Uri.IdnHost"/> (the connect guard's view): both must canonicalise to the same destination,
/// and to what the policy's WHATWG parser makes of the whole URL.
/// </summary>
public sealed class EgressHttpParsingTests
{
    private static readonly Gen<string> Label = Gen.OneOf(
        Gen.String[Gen.Char["abcxyz0189-"], 1, 8],
        Gen.String[Gen.Char["abcXYZéüßñ日本ⓐ\u00ad0-"], 1, 6],
        Gen.Int[0, 300].Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Int[0, 300].Select(i => "0x" + i.ToString("x", System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Int[0, 300].Select(i => "0" + Convert.ToString(i, 8)));

    private static readonly Gen<string> Host = Gen.OneOf(
        Label.Array[1, 4].Select(labels => string.Join('.', labels)),
        Gen.UInt.Select(u => u.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Const("[::1]"),
        Gen.Const("[::ffff:7f00:1]"),
        Gen.UShort.Array[8].Select(parts => "[" + string.Join(':', parts.Select(p => p.ToString("x", System.Globalization.CultureInfo.InvariantCulture))) + "]"));

    [Fact]
    public void HostAndIdnHost_CanonicaliseAlike_AndMatchTheUrlParser()
    {
        Gen.Select(Host, Gen.Int[1, 65535]).Sample((host, port) =>
        {
            if (!Uri.TryCreate($"http://{host}:{port}/p?q", UriKind.Absolute, out var uri))
            {
                return;
            }

            string idnHost;
            try
            {
                idnHost = uri.IdnHost;
            }
            catch (UriFormatException)
            {
                return; // SocketsHttpHandler cannot send such a request either
            }

            bool viaHost = EgressHttp.TryParse(uri.Scheme, uri.Host, uri.Port, out var a, out _);
            bool viaIdn = EgressHttp.TryParse(uri.Scheme, idnHost, uri.Port, out var b, out _);
            Assert.Equal(viaHost, viaIdn);
            if (viaHost)
            {
                Assert.Equal(a, b);
                Assert.True(DestinationParser.TryParse(uri.AbsoluteUri, out var c, out _));
                Assert.Equal(a.Host, c.Host);
                Assert.Equal(a.Port, c.Port);
            }
        }, iter: 20_000);
    }

    [Theory]
    [InlineData("http://127.1/", "127.0.0.1")]
    [InlineData("http://0x7f.0.0.1/", "127.0.0.1")]
    [InlineData("http://[::ffff:169.254.169.254]/", "169.254.169.254")]
    [InlineData("http://user:secret@Example.COM./", "example.com")]
    [InlineData("http://xn--bcher-kva.example/", "xn--bcher-kva.example")]
    [InlineData("http://bücher.example/", "xn--bcher-kva.example")]
    public void TryParse_Uri_ReadsTheDialledHost(string url, string expected)
    {
        Assert.True(EgressHttp.TryParse(new Uri(url), out var destination, out _));
        Assert.Equal(expected, destination.Host);
    }
}

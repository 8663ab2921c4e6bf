using System.Text;
using CsCheck;
using Egress.Proxy.Transparent;

namespace Egress.Isolation.Tests;

/// <summary>The transparent forwarder's reading of a client's first bytes (name from HTTP Host or TLS SNI).</summary>
public sealed class FirstBytesTests
{
    private static FirstBytes.Sniffed Read(string text, bool full = false) => FirstBytes.Read(Encoding.ASCII.GetBytes(text), full, 100);

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", "example.com")]
    [InlineData("GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", "example.com")]
    [InlineData("POST /x HTTP/1.1\r\nhost: [::1]:80\r\n\r\n", "[::1]")]
    [InlineData("CONNECT evil.example:443 HTTP/1.1\r\n\r\n", "evil.example")]
    [InlineData("GET / HTTP/1.0\r\n\r\n", null)]
    public void Http_HostIsTheName(string head, string? name)
    {
        var sniffed = Read(head);
        Assert.Equal(FirstBytes.Kind.Done, sniffed.Kind);
        Assert.Equal("http", sniffed.Protocol);
        Assert.Equal(name, sniffed.Name);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost : a.example\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\nHost: a.example\n\n\r\n\r\n")]
    [InlineData("GET /\u0001 HTTP/1.1\r\nHost: a.example\r\n\r\n")]
    public void Http_Ambiguous_IsMalformed(string head) => Assert.Equal(FirstBytes.Kind.Malformed, Read(head).Kind);

    [Fact]
    public void Http_HeadWithoutEnd_NeedsMore_ThenTooLargeWhenFull()
    {
        Assert.Equal(FirstBytes.Kind.NeedMore, Read("GET / HTTP/1.1\r\nHost: a").Kind);
        Assert.Equal(FirstBytes.Kind.NeedMore, Read("GE").Kind);
        Assert.Equal(FirstBytes.Kind.Malformed, Read("GET / HTTP/1.1\r\nHost: a", full: true).Kind);
    }

    [Theory]
    [InlineData("SSH-2.0-OpenSSH_9.6\r\n")]
    [InlineData("raw\n")]
    [InlineData("\u0000\u0001")]
    public void OtherProtocols_CarryNoName(string text)
    {
        var sniffed = Read(text);
        Assert.Equal(FirstBytes.Kind.Done, sniffed.Kind);
        Assert.Null(sniffed.Name);
    }

    [Fact]
    public void Tls_TruncatedRecord_NeedsMore_AndGarbageAfterTheRecordHeaderIsMalformed()
    {
        Assert.Equal(FirstBytes.Kind.NeedMore, FirstBytes.Read([22, 3, 1], false, 100).Kind);
        Assert.Equal(FirstBytes.Kind.Malformed, FirstBytes.Read([22, 3, 1, 0, 4, 2, 0, 0, 0], false, 100).Kind);
    }

    [Fact]
    public void AnyBytes_NeverThrow_AndNameOnlyWhenDone()
    {
        Gen.Byte.Array[0, 600].Sample(bytes =>
        {
            var sniffed = FirstBytes.Read(bytes, bytes.Length > 500, 100);
            return sniffed.Name is null || sniffed.Kind == FirstBytes.Kind.Done;
        });
    }

    [Theory]
    [InlineData("example.com", "example.com")]
    [InlineData("example.com:443", "example.com")]
    [InlineData("[2001:db8::1]:443", "[2001:db8::1]")]
    [InlineData("[2001:db8::1]", "[2001:db8::1]")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    public void StripPort(string host, string expected) => Assert.Equal(expected, FirstBytes.StripPort(host));
}

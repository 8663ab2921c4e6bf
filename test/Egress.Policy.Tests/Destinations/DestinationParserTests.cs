using Egress.Policy.Destinations;

namespace Egress.Policy.Tests.Destinations;

public class DestinationParserTests
{
    [Theory]
    [InlineData("https://api.openai.com/v1/models", "api.openai.com", 443)]
    [InlineData("HTTP://User:Pass@API.OpenAI.COM.:8080/x?y#z", "api.openai.com", 8080)]
    [InlineData("http://0x7f.1/", "127.0.0.1", 80)]
    [InlineData("http://2130706433/", "127.0.0.1", 80)]
    [InlineData("http://0177.0.0.1/", "127.0.0.1", 80)]
    [InlineData("http://[::ffff:7f00:1]/", "127.0.0.1", 80)]
    [InlineData("https://[2001:DB8:0:0:0:0:0:1]:8443/", "[2001:db8::1]", 8443)]
    [InlineData("https://bücher.de/", "xn--bcher-kva.de", 443)]
    [InlineData("https://ex%61mple.com/", "example.com", 443)]
    [InlineData("http:\\\\evil.example\\path", "evil.example", 80)]
    [InlineData("https://a@b@evil.example/", "evil.example", 443)]
    [InlineData("example.com:8443", "example.com", 8443)]
    [InlineData("example.com", "example.com", 0)]
    [InlineData("wss://socket.example", "socket.example", 443)]
    [InlineData(" \thttps://exa\tmple.com\n ", "example.com", 443)]
    public void TryParse_CanonicalisesLikeWhatwg(string input, string host, int port)
    {
        Assert.True(DestinationParser.TryParse(input, out var d, out var error), error);
        Assert.Equal(host, d.Host);
        Assert.Equal(port, d.Port);
    }

    [Theory]
    [InlineData("http://256.0.0.1/")]
    [InlineData("http://1.2.3.4.5/")]
    [InlineData("http://0x100000000/")]
    [InlineData("http://exa mple.com/")]
    [InlineData("http://a..b/")]
    [InlineData("http://example.com:99999/")]
    [InlineData("http://example.com:8x/")]
    [InlineData("http://[::1/")]
    [InlineData("http://[fe80::1%25eth0]/")]
    [InlineData("http://%zz.example/")]
    [InlineData("http://ex%00ample.com/")]
    [InlineData("")]
    [InlineData("file:///etc/passwd")]
    public void TryParse_RejectsInvalid(string input)
    {
        Assert.False(DestinationParser.TryParse(input, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }
}

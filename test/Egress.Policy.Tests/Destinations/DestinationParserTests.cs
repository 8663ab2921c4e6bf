using Egress.Policy.Destinations;

namespace Egress.Policy.Tests.Destinations;

public class DestinationParserTests
{
    private static void AssertCanonical(string input, string host, int port)
    {
        Assert.True(DestinationParser.TryParse(input, out var d, out var error), $"{Escape(input)}: {error}");
        Assert.Equal(host, d.Host);
        Assert.Equal(port, d.Port);
    }

    private static void AssertInvalid(string input, string fragment)
    {
        Assert.False(DestinationParser.TryParse(input, out var d, out var error), $"{Escape(input)} parsed as {d}");
        Assert.Contains(fragment, error, StringComparison.OrdinalIgnoreCase);
    }

    private static string Escape(string s) => s.Length > 200 ? s[..200] + "…" : string.Concat(s.Select(c => c < ' ' ? $"\\x{(int)c:x2}" : c.ToString()));

    [Theory]
    [InlineData("https://api.openai.com/v1/models", "api.openai.com", 443)]
    [InlineData("HTTP://User:Pass@API.OpenAI.COM.:8080/x?y#z", "api.openai.com", 8080)]
    [InlineData("api.openai.com", "api.openai.com", 0)]
    [InlineData("api.openai.com:8443", "api.openai.com", 8443)]
    [InlineData("http://a.com:0080/", "a.com", 80)]
    [InlineData("http://a.com:/", "a.com", 80)]
    [InlineData("ws://a.com", "a.com", 80)]
    [InlineData("wss://a.com", "a.com", 443)]
    [InlineData("ftp://a.com", "a.com", 21)]
    [InlineData("HTTPS://a.com", "a.com", 443)]
    [InlineData("foo://a.com:7/", "a.com", 7)]
    [InlineData("localhost:8080/path", "localhost", 8080)]
    [InlineData("ws:443", "ws", 443)] // a host named like a special scheme, with a port: host:port, not "ws://443/"
    [InlineData("http:8080", "http", 8080)]
    [InlineData("HTTPS:1", "https", 1)]
    [InlineData("https:evil.example", "evil.example", 443)]
    public void TryParse_UrlsAndBareHosts(string input, string host, int port) => AssertCanonical(input, host, port);

    [Theory]
    [InlineData("http://2130706433/", "127.0.0.1")]
    [InlineData("http://0x7f000001/", "127.0.0.1")]
    [InlineData("http://0X7F.0.0.1/", "127.0.0.1")]
    [InlineData("http://0x7f.1/", "127.0.0.1")]
    [InlineData("http://017700000001/", "127.0.0.1")]
    [InlineData("http://0177.0.0.1/", "127.0.0.1")]
    [InlineData("http://127.1/", "127.0.0.1")]
    [InlineData("http://127.0.1/", "127.0.0.1")]
    [InlineData("http://10.0x10.0400/", "10.16.1.0")]
    [InlineData("http://1.2.3.4./", "1.2.3.4")]
    [InlineData("http://4294967295/", "255.255.255.255")]
    [InlineData("http://0/", "0.0.0.0")]
    [InlineData("http://1.2.3.0x/", "1.2.3.0")]
    [InlineData("http://00000000000000000001.2.3.4/", "1.2.3.4")]
    [InlineData("http://１２７.０.０.１/", "127.0.0.1")]
    [InlineData("http://%31%32%37.0.0.1/", "127.0.0.1")]
    [InlineData("http://1.2.3.4abc/", "1.2.3.4abc")]
    public void TryParse_IPv4InEveryWhatwgForm_IsNormalisedToDottedQuad(string input, string host) => AssertCanonical(input, host, 80);

    [Theory]
    [InlineData("http://4294967296/")]
    [InlineData("http://256.0.0.1/")]
    [InlineData("http://1.2.3.256/")]
    [InlineData("http://1.2.65536/")]
    [InlineData("http://1.16777216/")]
    [InlineData("http://0x100000000/")]
    [InlineData("http://1.2.3.4.5/")]
    [InlineData("http://08.1.1.1/")]
    [InlineData("http://1.2.3.09/")]
    [InlineData("http://1..2/")]
    [InlineData("http://foo.09/")]
    [InlineData("http://foo.0x/")]
    [InlineData("http://foo.123/")]
    [InlineData("http://999999999999999999999999999999/")]
    public void TryParse_MalformedOrOutOfRangeIPv4_IsRejected(string input) => AssertInvalid(input, "IPv4");

    [Theory]
    [InlineData("http://[0:0:0:0:0:0:0:1]/", "[::1]")]
    [InlineData("http://[2001:DB8::]:8080/", "[2001:db8::]")]
    [InlineData("http://[2001:db8:0:0:1:0:0:1]/", "[2001:db8::1:0:0:1]")]
    [InlineData("http://[1:0:0:2:0:0:0:3]/", "[1:0:0:2::3]")]
    [InlineData("http://[1:0:0:0:2:0:0:3]/", "[1::2:0:0:3]")]
    [InlineData("http://[1:0:2:0:3:0:4:0]/", "[1:0:2:0:3:0:4:0]")]
    [InlineData("http://[::]/", "[::]")]
    [InlineData("http://[::1.2.3.4]/", "[::102:304]")]
    [InlineData("http://[::ffff:0:1.2.3.4]/", "[::ffff:0:102:304]")]
    [InlineData("http://[64:ff9b::1.2.3.4]/", "[64:ff9b::102:304]")]
    [InlineData("http://[::ffff:127.0.0.1]/", "127.0.0.1")] // IPv4-mapped: judged as its IPv4 address (our rule)
    [InlineData("http://[::FFFF:7f00:1]/", "127.0.0.1")]
    [InlineData("http://[0:0:0:0:0:ffff:a00:1]/", "10.0.0.1")]
    public void TryParse_IPv6_IsCompressedLowerCaseAndMappedIPv4Unwrapped(string input, string host)
    {
        int port = input.Contains("]:8080", StringComparison.Ordinal) ? 8080 : 80;
        AssertCanonical(input, host, port);
    }

    [Theory]
    [InlineData("http://[fe80::1%25eth0]/")]
    [InlineData("http://[::1]x/")]
    [InlineData("http://[1::2::3]/")]
    [InlineData("http://[::g]/")]
    [InlineData("http://[1:2:3:4:5:6:7:8:9]/")]
    [InlineData("http://[]/")]
    [InlineData("http://[::1/")]
    [InlineData("http://[::01.2.3.4]/")]
    [InlineData("http://[::1.2.3]/")]
    [InlineData("http://[::256.1.1.1]/")]
    [InlineData("http://[:1]/")]
    public void TryParse_MalformedIPv6_IsRejected(string input) => AssertInvalid(input, "IPv6");

    [Theory]
    [InlineData("http://BÜCHER.de/", "xn--bcher-kva.de")]
    [InlineData("http://faß.de/", "xn--fa-hia.de")] // non-transitional: ß is kept, not mapped to "ss"
    [InlineData("http://ß.com/", "xn--zca.com")]
    [InlineData("http://ς.com/", "xn--3xa.com")]
    [InlineData("http://a。b．c｡d/", "a.b.c.d")]
    [InlineData("http://openai。com/", "openai.com")]
    [InlineData("http://ＥＸＡＭＰＬＥ．com/", "example.com")]
    [InlineData("http://аpple.com/", "xn--pple-43d.com")] // Cyrillic а: a homograph stays a different host
    [InlineData("http://xn--bcher-kva.de/", "xn--bcher-kva.de")]
    [InlineData("http://XN--BCHER-KVA.DE/", "xn--bcher-kva.de")]
    [InlineData("http://xn--zca.com/", "xn--zca.com")]
    [InlineData("http://%C3%BC.com/", "xn--tda.com")]
    [InlineData("http://-ü-.com/", "xn-----xka.com")] // WHATWG turns the hyphen checks off (ICU alone would reject this)
    [InlineData("http://ß-.de/", "xn----pfa.de")]
    [InlineData("http://xn----pfa.de/", "xn----pfa.de")]
    [InlineData("http://a\u00ad-b.com/", "a-b.com")] // soft hyphen is ignored
    [InlineData("http://x\u200by.com/", "xy.com")]
    [InlineData("http://BÖGZ.de/", "xn--bgz-sna.de")]
    public void TryParse_InternationalNames_BecomeLowerCasePunycode(string input, string host) => AssertCanonical(input, host, 80);

    [Theory]
    [InlineData("http://xn--/")]
    [InlineData("http://xn--a.com/")]
    [InlineData("http://xn--ab-.com/")]
    [InlineData("http://a.b\u200dc.com/")]
    public void TryParse_InvalidPunycodeOrIdna_IsRejected(string input) => AssertInvalid(input, "internationalised");

    [Theory]
    [InlineData("http://openai.com@evil.example/", "evil.example", 80)]
    [InlineData("http://evil.example#@openai.com", "evil.example", 80)]
    [InlineData("http://evil.example\\@openai.com", "evil.example", 80)]
    [InlineData("http://evil.example?@openai.com", "evil.example", 80)]
    [InlineData("https://evil.example/@openai.com", "evil.example", 443)]
    [InlineData("http://openai.com:443@evil.example", "evil.example", 80)]
    [InlineData("http://a@b@evil.example/", "evil.example", 80)]
    [InlineData("http://user:p%40ss@evil.example/", "evil.example", 80)]
    [InlineData("http://evil.example%2F@openai.com/", "openai.com", 80)]
    [InlineData("openai.com@evil.example", "evil.example", 0)]
    [InlineData("openai.com:443@evil.example:8080", "evil.example", 8080)]
    public void TryParse_UserinfoTricks_TheHostIsWhatFollowsTheLastAtInTheAuthority(string input, string host, int port)
        => AssertCanonical(input, host, port);

    [Theory]
    [InlineData("http:\\\\evil.example\\path", "evil.example", 80)]
    [InlineData("https:/\\evil.example", "evil.example", 443)]
    [InlineData("http:evil.example", "evil.example", 80)]
    [InlineData("https:////evil.example", "evil.example", 443)]
    [InlineData("http://evil.example\\openai.com", "evil.example", 80)]
    public void TryParse_BackslashesInSpecialSchemes_ActAsSlashes(string input, string host, int port)
        => AssertCanonical(input, host, port);

    [Theory]
    [InlineData("http://%6fpenai.com/", "openai.com")]
    [InlineData("http://openai%2Ecom/", "openai.com")]
    [InlineData("http://openai%2ecom/", "openai.com")]
    [InlineData("http://OPENAI%2E%43OM/", "openai.com")]
    public void TryParse_PercentEncodedHostCharacters_AreDecoded(string input, string host) => AssertCanonical(input, host, 80);

    [Theory]
    [InlineData("http://exa%00mple.com/", "forbidden")]
    [InlineData("http://exa%20mple.com/", "forbidden")]
    [InlineData("http://ex%ample.com/", "forbidden")]
    [InlineData("http://%ff.com/", "percent")]
    [InlineData("http://openai.com%2F.evil.example/", "forbidden")]
    [InlineData("http://openai.com%40evil.example/", "forbidden")]
    [InlineData("http://openai.com%3A443/", "forbidden")]
    [InlineData("http://exa mple.com/", "forbidden")]
    [InlineData("http://exa<mple.com/", "forbidden")]
    [InlineData("http://exa^mple.com/", "forbidden")]
    [InlineData("http://exa|mple.com/", "forbidden")]
    [InlineData("http://open\u0000ai.com/", "forbidden")]
    [InlineData("http://open\u0001ai.com/", "forbidden")]
    [InlineData("http://open\u007fai.com/", "forbidden")]
    [InlineData("http://open\u001fai.com/", "forbidden")]
    public void TryParse_ForbiddenCharacters_AreRejected(string input, string fragment) => AssertInvalid(input, fragment);

    [Theory]
    [InlineData(" \t http://openai.com \n", "openai.com", 80)]
    [InlineData("\u0000\u001fhttp://openai.com\u0001", "openai.com", 80)]
    [InlineData("http://open\tai.com/", "openai.com", 80)]
    [InlineData("http://open\nai.com/", "openai.com", 80)]
    [InlineData("ht\rtp://openai.com/", "openai.com", 80)]
    [InlineData("http://openai.com./", "openai.com", 80)]
    [InlineData("openai.com.", "openai.com", 0)]
    [InlineData("openai.com.:443", "openai.com", 443)]
    public void TryParse_WhitespaceControlsAndTrailingDot_AreHandledLikeWhatwg(string input, string host, int port)
        => AssertCanonical(input, host, port);

    [Theory]
    [InlineData("mailto:someone@api.openai.com")]
    [InlineData("MAILTO:a:b@api.openai.com")]
    [InlineData("data:text/plain,api.openai.com")]
    [InlineData("javascript:fetch('https://api.openai.com')")]
    [InlineData("file:///etc/passwd")]
    [InlineData("file://api.openai.com/x")]
    [InlineData("tel:+15551234567")]
    [InlineData("urn:isbn:0451450523")]
    [InlineData("blob:https://api.openai.com/uuid")]
    [InlineData("about:blank")]
    [InlineData("view-source:https://api.openai.com/")]
    public void TryParse_NonNetworkSchemes_AreInvalid(string input) => AssertInvalid(input, "no network destination");

    [Theory]
    [InlineData("data:8080", "data", 8080)]
    [InlineData("a:b@api.openai.com", "api.openai.com", 0)]
    public void TryParse_SchemeLikeHostsWithAPort_AreStillHosts(string input, string host, int port)
    {
        Assert.True(DestinationParser.TryParse(input, out var d, out var error), error);
        Assert.Equal((host, port), (d.Host, d.Port));
    }

    [Theory]
    [InlineData("http://openai.com../", "empty label")]
    [InlineData("http://./", "empty")]
    [InlineData("http://../", "empty")]
    [InlineData("http://a..b.com/", "empty label")]
    [InlineData("http://.a.com/", "empty label")]
    [InlineData("http:///", "no host")]
    [InlineData("http://", "no host")]
    [InlineData("http://user@/", "no host")]
    [InlineData("http://:80/", "empty host")]
    [InlineData("", "empty")]
    [InlineData("   ", "empty")]
    [InlineData("\t\n", "empty")]
    public void TryParse_EmptyHostsAndLabels_AreRejected(string input, string fragment) => AssertInvalid(input, fragment);

    [Theory]
    [InlineData("http://a.com:65536/", "port")]
    [InlineData("http://a.com:99999999999999999999/", "port")]
    [InlineData("http://a.com:-1/", "port")]
    [InlineData("http://a.com:8o/", "port")]
    [InlineData("http://a.com:0/", "port 0")]
    [InlineData("http://a.com: 80/", "port")]
    [InlineData("a.com:", "port")]
    [InlineData("file:///etc/passwd", "file")]
    public void TryParse_BadPortsAndFileUrls_AreRejected(string input, string fragment)
    {
        if (input == "a.com:")
        {
            // A bare host with an empty port has no port; it is still a valid host.
            AssertCanonical(input, "a.com", 0);
            return;
        }

        AssertInvalid(input, fragment);
    }

    [Fact]
    public void TryParse_LabelOf63Octets_IsValidAnd64IsNot()
    {
        AssertCanonical($"http://{new string('a', 63)}.com/", new string('a', 63) + ".com", 80);
        AssertInvalid($"http://{new string('a', 64)}.com/", "63");
    }

    [Fact]
    public void TryParse_NameOf253Octets_IsValidAnd254IsNot()
    {
        string name253 = string.Join('.', Enumerable.Repeat(new string('a', 62), 4)) + "." + new string('b', 1); // 4*62+3+1+1 = 253
        Assert.Equal(253, name253.Length);
        AssertCanonical($"http://{name253}/", name253, 80);
        AssertCanonical($"http://{name253}./", name253, 80);
        AssertInvalid($"http://{name253}b/", "253");
    }

    [Fact]
    public void TryParse_LongIdnLabel_IsMeasuredAfterPunycode()
        => AssertInvalid($"http://{new string('ü', 60)}.com/", "63");

    [Theory]
    [InlineData(1_000_000)]
    [InlineData(8 * 1024 * 1024)]
    public void TryParse_MegabyteInput_IsRejectedFastWithoutThrowing(int length)
    {
        string[] inputs =
        [
            new string('a', length),
            "http://" + new string('a', length) + ".com/",
            "http://" + string.Concat(Enumerable.Repeat("%41", length / 3)),
            "http://[" + new string(':', length) + "]/",
            new string('\t', length) + "openai.com",
            "http://" + string.Concat(Enumerable.Repeat("1.", length / 2)) + "1/",
        ];
        // "too long" (rather than a parse error) shows the length check runs before any per-character work.
        foreach (var input in inputs)
        {
            AssertInvalid(input, "too long");
        }
    }

    [Fact]
    public void TryParse_NullInput_IsRejected()
    {
        Assert.False(DestinationParser.TryParse((string?)null, out _, out var error));
        Assert.Equal("no destination", error);
    }

    [Theory]
    [InlineData("http://[::1]:8080/", "[::1]", 8080, "::1")]
    [InlineData("10.0.0.7:22", "10.0.0.7", 22, "10.0.0.7")]
    public void TryParse_IpLiterals_CarryTheAddress(string input, string host, int port, string address)
    {
        Assert.True(DestinationParser.TryParse(input, out var d, out _));
        Assert.Equal(host, d.Host);
        Assert.Equal(port, d.Port);
        Assert.True(d.IsIPAddress);
        Assert.Equal(System.Net.IPAddress.Parse(address), d.Address);
        Assert.Equal($"{host}:{port}", d.ToString());
    }
}

using System.Text;
using CsCheck;
using Egress.Proxy.Http;

namespace Egress.Proxy.Tests;

public sealed class HeadParserTests
{
    private static HttpHead Parse(string head)
    {
        var bytes = Encoding.Latin1.GetBytes(head);
        HeadParser.CheckLineEndings(bytes, 400);
        return HeadParser.ParseRequest(bytes, 128);
    }

    [Fact]
    public void ParseRequest_ValidHead_ReadsStartLineAndFields()
    {
        var head = Parse("GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\nX-Empty:\r\nX-Pad: \t v \t\r\n\r\n");

        Assert.Equal("GET", head.First);
        Assert.Equal("http://example.com/x", head.Second);
        Assert.Equal(1, head.MinorVersion);
        Assert.Equal(["Host", "X-Empty", "X-Pad"], head.Headers.Select(h => h.Name));
        Assert.Equal(string.Empty, head.Get("x-empty"));
        Assert.Equal("v", head.Get("X-PAD"));
    }

    [Fact]
    public void Parse_CommonNamesAndStartLines_KeepTheCaseTheyArrivedIn()
    {
        // The parser hands out shared strings for common names, methods and statuses: only for exactly those bytes.
        var name = Gen.OneOf(Gen.Const("Host"), Gen.Const("HOST"), Gen.Const("host"), Gen.Const("hOsT"), Gen.Const("Content-Length"), Gen.Const("content-length"), Gen.Const("CONTENT-LENGTH"), Gen.Const("Date"), Gen.Const("date"), Gen.Const("Connection"), Gen.Const("connectioN"), Gen.Const("Hostx"), Gen.Const("Hos"), Gen.Const("X-A"));
        var method = Gen.OneOf(Gen.Const("GET"), Gen.Const("get"), Gen.Const("Get"), Gen.Const("POST"), Gen.Const("CONNECT"), Gen.Const("connect"), Gen.Const("HEAD"), Gen.Const("PUT"), Gen.Const("PATCH"), Gen.Const("GETS"));
        var status = Gen.OneOf(Gen.Const("200"), Gen.Const("204"), Gen.Const("404"), Gen.Const("500"), Gen.Const("299"));
        var reason = Gen.OneOf(Gen.Const("OK"), Gen.Const("ok"), Gen.Const("OK "), Gen.Const(" OK"), Gen.Const("Not Found"), Gen.Const(""), Gen.Const("O"));
        Gen.Select(method, status, reason, name.Array[0, 6]).Sample((m, code, why, names) =>
        {
            string fields = string.Concat(names.Select((n, i) => $"{n}: v{i}\r\n"));
            var request = Parse($"{m} http://a/ HTTP/1.1\r\n{fields}\r\n");
            var responseBytes = Encoding.Latin1.GetBytes($"HTTP/1.0 {code} {why}\r\n{fields}\r\n");
            var response = HeadParser.ParseResponse(responseBytes, 128);
            return request.First == m && request.Third == "HTTP/1.1" && request.MinorVersion == 1
                && response.First == "HTTP/1.0" && response.Second == code && response.Third == why && response.MinorVersion == 0
                && request.Headers.Select(h => h.Name).SequenceEqual(names) && response.Headers.Select(h => h.Name).SequenceEqual(names)
                && request.Headers.Count == names.Length && request.Headers.Capacity == names.Length;
        }, iter: 2000);
    }

    [Theory]
    [InlineData("GET  http://a/ HTTP/1.1\r\n\r\n", 400)]
    [InlineData("GET http://a/ HTTP/1.1 \r\n\r\n", 400)]
    [InlineData("G(T http://a/ HTTP/1.1\r\n\r\n", 400)]
    [InlineData("GET http://a/\u0080 HTTP/1.1\r\n\r\n", 400)]
    [InlineData("GET http://a/ HTTP/1.1\r\nX-A: 1\r\n\tfold\r\n\r\n", 400)]
    [InlineData("GET http://a/ HTTP/1.1\r\n: empty-name\r\n\r\n", 400)]
    [InlineData("GET http://a/ HTTP/1.1\r\nX A: 1\r\n\r\n", 400)]
    [InlineData("GET http://a/ HTTP/1.1\r\nX-A: 1\u0001\r\n\r\n", 400)]
    [InlineData("GET http://a/ HTTP/1.1\r\nX-A: 1\rX\r\n\r\n", 400)]
    [InlineData("GET http://a/ HTTP/1.1\r\nX-A: \0\r\n\r\n", 400)]
    [InlineData("GET http://a/ HTTP/3.0\r\n\r\n", 505)]
    [InlineData("GET http://a/ http/1.1\r\n\r\n", 400)]
    [InlineData("GET http://a/ HTTP/1.1\r\nHost : a\r\n\r\n", 400)]
    [InlineData("GET http://a/ HTTP/1.1\r\nHost\t: a\r\n\r\n", 400)]
    [InlineData(" GET http://a/ HTTP/1.1\r\n\r\n", 400)]
    [InlineData("GET\thttp://a/ HTTP/1.1\r\n\r\n", 400)]
    [InlineData("GET http://a/ HTTP/1.1\r\n X-A: 1\r\n\r\n", 400)]
    [InlineData("GET http://a/ HTTP/1.1\r\nX-A\r\n\r\n", 400)]
    [InlineData("GET http://a/ HTTP/1.10\r\n\r\n", 400)]
    [InlineData("GET http://a/ HTTP/01.1\r\n\r\n", 400)]
    [InlineData("GET http://a/ HTTP/1.1\r\nX-\u00e9: 1\r\n\r\n", 400)]
    [InlineData("GET http://a/\u007f HTTP/1.1\r\n\r\n", 400)]
    [InlineData("\r\n\r\n", 400)]
    public void ParseRequest_MalformedHead_IsRejectedWithStatus(string head, int status)
    {
        var ex = Assert.Throws<HeadParseException>(() => Parse(head));

        Assert.Equal(status, ex.Status);
    }

    [Fact]
    public void ParseRequest_TooManyFields_Is431()
    {
        var head = "GET http://a/ HTTP/1.1\r\n" + string.Concat(Enumerable.Range(0, 129).Select(i => $"X-{i}: v\r\n")) + "\r\n";

        Assert.Equal(431, Assert.Throws<HeadParseException>(() => Parse(head)).Status);
    }

    [Fact]
    public void ParseRequest_ArbitraryBytes_OnlyEverThrowsHeadParseException()
    {
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            var head = bytes.Concat("\r\n\r\n"u8.ToArray()).ToArray();
            try
            {
                HeadParser.CheckLineEndings(head, 400);
                var parsed = HeadParser.ParseRequest(head, 128);
                return parsed.Headers.All(h => h.Value.All(c => c >= ' ' || c == '\t'));
            }
            catch (HeadParseException)
            {
                return true;
            }
        }, iter: 5000);
    }

    [Fact]
    public void ParseRequest_GeneratedFields_RoundTripNamesAndTrimmedValues()
    {
        var name = Gen.Char["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!#$%&'*+^`|~"].Array[1, 20].Select(a => new string(a));
        var value = Gen.Char[" \tabcXYZ0123456789:;,/\"()<>@[]{}?=\u00e9"].Array[0, 40].Select(a => new string(a));
        Gen.Select(name, value).Array[0, 10].Sample(fields =>
        {
            var text = "GET http://a/ HTTP/1.1\r\n" + string.Concat(fields.Select(f => $"{f.Item1}: {f.Item2}\r\n")) + "\r\n";
            var head = Parse(text);
            return head.Headers.Select(h => (h.Name, h.Value)).SequenceEqual(fields.Select(f => (f.Item1, f.Item2.Trim(' ', '\t'))));
        }, iter: 2000);
    }

    [Theory]
    [InlineData("example.com:443", true)]
    [InlineData("127.0.0.1:8080", true)]
    [InlineData("[::1]:443", true)]
    [InlineData("example.com", false)]
    [InlineData("example.com:", false)]
    [InlineData(":443", false)]
    [InlineData("example.com:0", false)]
    [InlineData("example.com:65536", false)]
    [InlineData("example.com:+443", false)]
    [InlineData("::1:443", false)]
    [InlineData("[::1]x:443", false)]
    [InlineData("user@example.com:443", false)]
    [InlineData("example.com/x:443", false)]
    [InlineData("http://example.com:443", false)]
    public void AuthorityForm_AcceptsOnlyHostPort(string target, bool expected)
        => Assert.Equal(expected, AuthorityForm.IsHostPort(target));

    [Fact]
    public void AuthorityForm_NeverAcceptsTargetsWithPathOrUserinfoCharacters()
    {
        Gen.String.Sample(s =>
        {
            bool accepted = AuthorityForm.IsHostPort(s + ":443");
            return !accepted || s.IndexOfAny(['/', '?', '#', '@', '\\']) < 0;
        }, iter: 5000);
    }

    [Theory]
    [InlineData("close", "close", true)]
    [InlineData(" Keep-Alive , CLOSE ", "close", true)]
    [InlineData(",,close,,", "close", true)]
    [InlineData("closed, x-close", "close", false)]
    [InlineData("", "close", false)]
    [InlineData(" , ", "close", false)]
    public void ListContains_MatchesWholeTrimmedCaseInsensitiveTokens(string value, string token, bool expected)
    {
        var head = Parse($"GET / HTTP/1.1\r\nHost: h\r\nConnection: {value}\r\n\r\n");
        Assert.Equal(expected, head.ListContains("Connection", token));
    }

    private static readonly string[] ListParts = ["close", "Close", " close", "close ", "keep-alive", "x", "", " ", "upgrade"];

    [Fact]
    public void ListContains_AgreesWithSplittingTheValue()
    {
        // The allocation-free split must answer as string.Split with trimming and empty entries removed did.
        Gen.Int[0, ListParts.Length - 1].Select(i => ListParts[i]).List[0, 6]
            .Sample(parts =>
            {
                string value = string.Join(",", parts);
                var head = Parse($"GET / HTTP/1.1\r\nHost: h\r\nConnection: {value}\r\n\r\n");
                bool expected = head.Get("Connection")!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                    .Any(p => p.Equals("close", StringComparison.OrdinalIgnoreCase));
                return head.ListContains("Connection", "close") == expected;
            }, iter: 2000);
    }
}

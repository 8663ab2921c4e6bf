using System.Text;
using Egress.Policy.Destinations;
using Egress.Policy.Domains;
using Egress.Policy.Tokens;
using Egress.Proxy.Http;

namespace Egress.Fuzz;

/// <summary>
/// The targets. Each checks invariants as well as "no unexpected exception": canonical output re-parses
/// to itself, an accepted token is never a wildcard or a public suffix, and so on.
/// </summary>
internal static class FuzzTargets
{
    private static readonly Encoding Utf8 = new UTF8Encoding(false, false);

    public static readonly IReadOnlyDictionary<string, FuzzTarget> All = new Dictionary<string, FuzzTarget>(StringComparer.Ordinal)
    {
        ["destination"] = Destination,
        ["host"] = Host,
        ["token"] = Token,
        ["head"] = Head,
    };

    private static void Destination(ReadOnlySpan<byte> data)
    {
        var text = Utf8.GetString(data);
        if (!DestinationParser.TryParse(text, out var d, out var error))
        {
            Check(error is not null, "rejected destination without an error");
            return;
        }

        Check(d.Host.Length > 0, "empty canonical host");
        Check(DestinationParser.TryParse(d.ToString(), out var again, out error), $"canonical destination '{d}' does not re-parse: {error}");
        Check(again.Host == d.Host && (d.Port == 0 || again.Port == d.Port), $"canonical destination '{d}' re-parses as '{again}'");
    }

    private static void Host(ReadOnlySpan<byte> data)
    {
        var text = Utf8.GetString(data);
        if (!HostCanonicalizer.TryCanonicalize(text, out var host, out var address, out _))
        {
            return;
        }

        Check(HostCanonicalizer.TryCanonicalize(host, out var again, out var againAddress, out var error), $"canonical host '{host}' does not re-canonicalise: {error}");
        Check(again == host, $"canonicalisation is not idempotent: '{host}' -> '{again}'");
        Check(Equals(address, againAddress), $"address of '{host}' changed on re-canonicalisation");
    }

    private static void Token(ReadOnlySpan<byte> data)
    {
        var text = Utf8.GetString(data);
        if (!EgressToken.TryParse(text, out var token, out var error))
        {
            Check(error is not null, "rejected token without an error");
            return;
        }

        Check(!EgressToken.IsWildcard(token!.Text), $"accepted token '{token.Text}' is a wildcard");
        Check(token.Network is not { PrefixLength: 0 }, $"accepted token '{token.Text}' is a /0 network");
        Check(token.Kind != EgressTokenKind.Domain || token.Value == "localhost" || !RegistrableDomain.IsPublicSuffix(token.Value),
            $"accepted domain token '{token.Text}' is a public suffix");
        Check(EgressToken.TryParse(token.Text, out var again, out error), $"accepted token '{token.Text}' does not re-parse: {error}");
        Check(again!.Kind == token.Kind && again.Value == token.Value && again.Port == token.Port && Equals(again.Network, token.Network),
            $"token '{token.Text}' re-parses differently");
    }

    private static void Head(ReadOnlySpan<byte> data)
    {
        // The proxy calls the parser only on a head that ends at CRLF CRLF and passed CheckLineEndings.
        int end = data.IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            return;
        }

        var head = data[..(end + 4)];
        try
        {
            HeadParser.CheckLineEndings(head, 400);
            var request = HeadParser.ParseRequest(head, 100);
            Check(request.First.Length > 0 && request.Second.Length > 0, "request head without method or target");
            Check(request.Headers.Count <= 100, "more header fields than the limit");
        }
        catch (HeadParseException ex)
        {
            Check(ex.Status is >= 400 and < 600, $"head rejected with status {ex.Status}");
        }

        try
        {
            HeadParser.CheckLineEndings(head, 502);
            _ = HeadParser.ParseResponse(head, 100);
        }
        catch (HeadParseException ex)
        {
            Check(ex.Status == 502, $"response head rejected with status {ex.Status}");
        }
    }

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvariantException(message);
        }
    }
}

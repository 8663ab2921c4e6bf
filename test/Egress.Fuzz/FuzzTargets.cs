using System.Text;
using System.Buffers.Binary;
using System.Net;
using Egress.Isolation.Dns;
using Egress.Policy.Destinations;
using Egress.Policy.Domains;
using Egress.Policy.Events;
using Egress.Policy.Locking;
using Egress.Policy.Roles;
using Egress.Policy.Tokens;
using Egress.Proxy.Http;
using Egress.Proxy.Tls;

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
        ["lockfile"] = LockFileText,
        ["journal"] = Journal,
        ["clienthello"] = ClientHelloBytes,
        ["rolefile"] = RoleFileText,
        ["dns"] = DnsMessage,
    };

    // A fixed key (created on first use: instrumented code must not run before SharpFuzz maps afl's shared memory).
    private static JournalIntegrity? s_key;

    private static JournalIntegrity Key => s_key ??= JournalIntegrity.FromValue("fuzz-key-0123456789abcdef0123456789")!;

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

    private static void LockFileText(ReadOnlySpan<byte> data)
    {
        var text = Utf8.GetString(data);
        var content = LockFile.ParseContent(text);
        int lines = text.Split('\n').Length;
        foreach (var problem in content.Problems)
        {
            Check(problem.Line >= 1 && problem.Line <= lines, $"problem on line {problem.Line} of {lines}");
            Check(!problem.Message.AsSpan().ContainsAnyInRange('\0', '\u001f') && !problem.Token.AsSpan().ContainsAnyInRange('\0', '\u001f'), "control character in a lock problem");
        }

        foreach (var token in content.Tokens)
        {
            // A token the lock file accepts as valid is never a wildcard.
            if (EgressToken.TryParse(token, out var parsed, out _))
            {
                Check(!EgressToken.IsWildcard(token) && parsed!.Network is not { PrefixLength: 0 }, $"valid lock token '{token}' is a wildcard");
            }
        }
    }

    private static void RoleFileText(ReadOnlySpan<byte> data)
    {
        var text = Utf8.GetString(data);
        var content = RoleFile.Parse(text);
        int lines = text.Split('\n').Length;
        foreach (var problem in content.Problems)
        {
            Check(problem.Line >= 1 && problem.Line <= lines, $"role-file problem on line {problem.Line} of {lines}");
            Check(!problem.Message.AsSpan().ContainsAnyInRange('\0', '\u001f') && !problem.Token.AsSpan().ContainsAnyInRange('\0', '\u001f'), "control character in a role-file problem");
        }

        Check(content.Roles.Length <= RoleFile.MaxRoles, "more roles than the cap");
        Check(content.Roles.Select(r => r.Name).Distinct(StringComparer.Ordinal).Count() == content.Roles.Length, "two roles of one name");
        foreach (var role in content.Roles)
        {
            Check(role.Name != RoleFile.DefaultRole && role.Name.Length is > 0 and <= 63, $"role name '{role.Name}' accepted");
            Check(role.Tokens.All(t => !EgressToken.IsWildcard(t.Text)), $"wildcard in role '{role.Name}'");
            foreach (var subject in role.Subjects)
            {
                Check(RoleFile.NormalizeSubject(subject.Name) == subject.Name, $"subject '{subject.Name}' does not normalise to itself");
            }
        }

        Check(content.Default.All(t => !EgressToken.IsWildcard(t.Text)), "wildcard in the default section");
        if (content.Problems.IsEmpty)
        {
            // An accepted file gives no user, subject or address to two roles.
            var users = content.Roles.SelectMany(r => r.Users).Select(u => u.Name).ToList();
            Check(users.Count == users.Distinct(StringComparer.Ordinal).Count(), "a user in two places of an accepted file");
            var sources = content.Roles.SelectMany(r => r.Sources.Select(s => (Role: r.Name, s.Network))).Take(64).ToList();
            foreach (var a in sources)
            {
                foreach (var b in sources)
                {
                    Check(a.Role == b.Role || !a.Network.Contains(b.Network.BaseAddress), $"accepted file: {a.Network} ({a.Role}) and {b.Network} ({b.Role}) overlap");
                }
            }
        }
    }

    private static void Journal(ReadOnlySpan<byte> data)
    {
        long lines = data.Count((byte)'\n') + 1;
        foreach (var integrity in new[] { null, Key })
        {
            long delivered = 0;
            var result = EventJournal.Read(new MemoryStream(data.ToArray()), e =>
            {
                delivered++;
                Check(e.Action is "ALLOW" or "DENY" && e.Host.Length > 0 && e.Reason is not null && e.Source is not null, "journal delivered an invalid event");
            }, integrity);
            Check(delivered == result.Events, "event count differs from the events delivered");
            Check(result.UnreadableLines + result.UnverifiedLines <= lines, "more skipped lines than lines");
            Check(result.UnreadableLineNumbers.All(n => n >= 1 && n <= lines) && result.UnverifiedLineNumbers.All(n => n >= 1 && n <= lines), "line number out of range");
            Check(result.UnreadableLineNumbers.Count <= JournalReadResult.MaxLineNumbers, "unbounded line-number list");
            if (integrity is not null)
            {
                Check(result.Events == 0 || data.IndexOf("\"mac\":\""u8) >= 0, "an event verified without a MAC");
            }
        }
    }

    private static void ClientHelloBytes(ReadOnlySpan<byte> data)
    {
        var hello = ClientHelloReader.Read(data);
        switch (hello.Status)
        {
            case ClientHelloStatus.Complete:
                Check(hello.BytesNeeded > 0 && hello.BytesNeeded <= data.Length, $"complete hello claims {hello.BytesNeeded} of {data.Length} bytes");
                Check(hello.ServerName is null || (hello.ServerName.Length > 0 && hello.ServerName.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')), "server name with characters outside the allowed set");
                var again = ClientHelloReader.Read(data[..hello.BytesNeeded]);
                Check(again.Status == ClientHelloStatus.Complete && again.ServerName == hello.ServerName, "the hello alone reads differently");
                break;
            case ClientHelloStatus.Incomplete:
                Check(hello.BytesNeeded > data.Length && hello.BytesNeeded <= ClientHelloReader.MaxBytes + 5 + 16 * 1024, $"incomplete hello needs {hello.BytesNeeded} with {data.Length} read");
                break;
            default:
                Check(hello.ServerName is null && hello.Problem is not null, "a rejected hello without a reason");
                break;
        }
    }

    /// <summary>
    /// A DNS query from the isolated child (attacker-controlled bytes): read, answered with the largest record the
    /// responder writes, and the question echoed byte for byte within the response bound.
    /// </summary>
    private static void DnsMessage(ReadOnlySpan<byte> data)
    {
        var status = DnsQueryReader.TryRead(data, out var query);
        if (status != DnsReadStatus.Query)
        {
            Check(status is DnsReadStatus.Ignore or DnsReadStatus.FormatError or DnsReadStatus.NotImplemented, $"unknown status {status}");
            return;
        }

        Check(query.QuestionEnd >= DnsQueryReader.HeaderLength + 5 && query.QuestionEnd <= data.Length, $"question ends at {query.QuestionEnd} of {data.Length}");
        Check(query.QuestionEnd - DnsQueryReader.HeaderLength <= DnsQueryReader.MaxNameLength + 2 + 4, "question longer than a name, a pointer, a type and a class");
        if (query.IsHostName)
        {
            Check(query.Name.Length is > 0 and <= 253, $"host name of {query.Name.Length} characters");
            Check(query.Name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.'), "host name with a character outside [a-z0-9-_.]");
            Check(query.Name.Split('.').All(l => l.Length is > 0 and <= 63), "host name with an empty or over-long label");
        }

        _ = ReverseName.TryParse(query.Name, out _);
        Span<byte> response = stackalloc byte[DnsResponseWriter.MaxResponseLength];
        int n = DnsResponseWriter.Write(response, data, query, DnsResponseCode.NoError, IPAddress.IPv6Loopback, 60);
        Check(n == query.QuestionEnd + 12 + 16, $"response of {n} bytes for a question ending at {query.QuestionEnd}");
        Check(BinaryPrimitives.ReadUInt16BigEndian(response) == query.Id, "response id differs from the query's");
        Check(response[DnsQueryReader.HeaderLength..query.QuestionEnd].SequenceEqual(data[DnsQueryReader.HeaderLength..query.QuestionEnd]), "question not echoed byte for byte");
    }

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvariantException(message);
        }
    }
}

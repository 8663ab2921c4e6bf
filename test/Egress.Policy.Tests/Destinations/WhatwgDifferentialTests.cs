using System.Diagnostics;
using System.Net;
using System.Text.Json;
using CsCheck;
using Egress.Policy.Destinations;

namespace Egress.Policy.Tests.Destinations;

/// <summary>
/// Node's WHATWG <c>URL</c> as a differential oracle: the same inputs go to one <c>node</c> process and to
/// <see cref="DestinationParser"/>; hosts and ports must agree, except for our documented stricter rules.
/// </summary>
public class WhatwgDifferentialTests
{
    private const string OracleScript = """
        let data = '';
        process.stdin.setEncoding('utf8');
        process.stdin.on('data', c => data += c);
        process.stdin.on('end', () => {
          const out = JSON.parse(data).map(s => {
            try { const u = new URL(s); return { ok: true, host: u.hostname, port: u.port, protocol: u.protocol }; }
            catch { return { ok: false, host: '', port: '', protocol: '' }; }
          });
          process.stdout.write(JSON.stringify(out));
        });
        """;

    private static readonly string[] Corpus =
    [
        "https://api.openai.com/v1", "HTTP://User:Pass@API.OpenAI.COM.:8080/x?y#z", "http://a.com:0080/", "http://a.com:/",
        "ws://a.com/", "wss://a.com:444/", "ftp://a.com/", "http://2130706433/", "http://0x7f000001/", "http://0X7F.0.0.1/",
        "http://0x7f.1/", "http://017700000001/", "http://0177.0.0.1/", "http://127.1/", "http://127.0.1/", "http://10.0x10.0400/",
        "http://1.2.3.4./", "http://4294967295/", "http://4294967296/", "http://256.0.0.1/", "http://1.2.3.256/", "http://1.2.65536/",
        "http://0x100000000/", "http://1.2.3.4.5/", "http://08.1.1.1/", "http://1.2.3.09/", "http://1..2/", "http://foo.09/",
        "http://foo.0x/", "http://1.2.3.0x/", "http://0/", "http://1.2.3.4abc/", "http://１２７.０.０.１/", "http://%31%32%37.0.0.1/",
        "http://[0:0:0:0:0:0:0:1]/", "http://[2001:DB8::]:8080/", "http://[1:0:0:2:0:0:0:3]/", "http://[1:0:0:0:2:0:0:3]/",
        "http://[::]/", "http://[::1.2.3.4]/", "http://[::ffff:0:1.2.3.4]/", "http://[64:ff9b::1.2.3.4]/", "http://[::ffff:127.0.0.1]/",
        "http://[::FFFF:7f00:1]/", "http://[fe80::1%25eth0]/", "http://[::1]x/", "http://[1::2::3]/", "http://[::g]/",
        "http://[1:2:3:4:5:6:7:8:9]/", "http://[]/", "http://[::01.2.3.4]/", "http://[::1.2.3]/", "http://[::256.1.1.1]/",
        "http://BÜCHER.de/", "http://faß.de/", "http://ß.com/", "http://ς.com/", "http://a。b．c｡d/", "http://ＥＸＡＭＰＬＥ．com/",
        "http://аpple.com/", "http://xn--bcher-kva.de/", "http://XN--BCHER-KVA.DE/", "http://xn--/", "http://xn--a.com/",
        "http://a.b\u200dc.com/", "http://a\u200cb.com/", "http://%C3%BC.com/", "http://openai.com@evil.example/",
        "http://evil.example#@openai.com", "http://evil.example\\@openai.com", "http://evil.example?@openai.com",
        "http://openai.com:443@evil.example", "http://a@b@evil.example/", "http://user:p%40ss@evil.example/",
        "http://evil.example%2F@openai.com/", "http:\\\\evil.example\\path", "https:/\\evil.example", "http:evil.example",
        "https:////evil.example", "http://%6fpenai.com/", "http://openai%2Ecom/", "http://OPENAI%2E%43OM/", "http://exa%00mple.com/",
        "http://exa%20mple.com/", "http://ex%ample.com/", "http://%ff.com/", "http://openai.com%2F.evil.example/",
        "http://openai.com%40evil.example/", "http://exa mple.com/", "http://exa<mple.com/", "http://open\u0000ai.com/",
        "http://open\u007fai.com/", " \t http://openai.com \n", "http://open\tai.com/", "http://openai.com./", "http://openai.com../",
        "http://a..b.com/", "http:///", "http://user@/", "http://:80/", "http://a.com:65536/", "http://a.com:-1/", "http://a.com:8o/",
        "http://a*b.com/", "http://a_b.com/", "http://-a-.com/", "http://a.com:0/", "https://a.com:443/", "http://" + new string('a', 64) + ".com/",
        "http://1.2.3.4:80@5.6.7.8/", "http://[::1]@evil.example/", "http://evil.example@[::1]/", "http://0x.0x.0x.0x/",
        "http://0xffffffff/", "http://0xfffffffff/", "http://0.0.0.0x100/", "http://¹.com/", "http://ⓐ.com/", "http://Ⅻ.com/",
        "http://\u00ad.com/", "http://a\u00adb.com/", "http://\u0430\u0440\u0440\u04cf\u0435.com/", "http://例え.テスト/",
        "http://-ü-.com/", "http://ß-.de/", "http://-lü.9q/", "http://ab--ü.com/", "http://a\u00ad-b.com/", "http://\u00ad-dp.com/",
        "http://xn----pfa.de/", "http://xn---l-kha.com/", "http://BÖGZ.de/", "http://ẞ.de/", "http://x\u200by.com/", "http://\ufeffa.com/",
    ];

    [Fact]
    public void Canonicalisation_AgreesWithNodeWhatwgUrl_OnCorpusAndGeneratedInputs()
    {
        var inputs = new List<string>(Corpus);
        inputs.AddRange(Generated(Hostish, 1500).Select(h => "http://" + h + "/"));
        inputs.AddRange(Generated(Ipv4ish, 800).Select(h => "http://" + h + "/"));
        inputs.AddRange(Generated(Ipv6ish, 800).Select(h => "http://[" + h + "]/"));
        inputs.AddRange(Generated(Authorityish, 800).Select(a => "https://" + a));

        var oracle = RunNode(inputs);
        Assert.Equal(inputs.Count, oracle.Count);

        var mismatches = new List<string>();
        int agreedValid = 0;
        for (int i = 0; i < inputs.Count; i++)
        {
            var input = inputs[i];
            var node = oracle[i];
            bool ours = DestinationParser.TryParse(input, out var d, out var error);
            if (!node.Ok)
            {
                if (ours)
                {
                    mismatches.Add($"{Show(input)}: node rejects, we accept {d}");
                }

                continue;
            }

            string expectedHost = NormaliseNodeHost(node.Host);
            int expectedPort = node.Port.Length > 0 ? int.Parse(node.Port, System.Globalization.CultureInfo.InvariantCulture) : DestinationParser.SpecialDefaultPort(node.Protocol.TrimEnd(':'));
            if (!ours)
            {
                if (!IsDocumentedStricterRule(input, expectedHost, expectedPort, error!))
                {
                    mismatches.Add($"{Show(input)}: node accepts {expectedHost}:{expectedPort}, we reject ({error})");
                }

                continue;
            }

            if (d.Host != expectedHost || d.Port != expectedPort)
            {
                mismatches.Add($"{Show(input)}: node {expectedHost}:{expectedPort}, we {d.Host}:{d.Port}");
            }
            else
            {
                agreedValid++;
            }
        }

        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {inputs.Count} differ from WHATWG:\n" + string.Join('\n', mismatches.Take(40)));
        Assert.True(agreedValid > 500, $"only {agreedValid} valid inputs compared; the generators are too narrow");
    }

    [Fact]
    public void BareHostAndPort_HasTheHostNodeFindsAfterHttpSlashSlash()
    {
        var bare = new List<string> { "openai.com", "openai.com:443", "user@evil.example", "openai.com@evil.example", "a:b@evil.example",
            "ftp:21@evil.example", "http:x@evil.example", "evil.example\\@openai.com", "evil.example#@openai.com", "[::1]:8080", "127.1:80", "0x7f.1" };
        // A bare input is trimmed of C0 controls and spaces like a URL; one starting with a slash is a path, not a host.
        var c0 = Enumerable.Range(0, 33).Select(i => (char)i).ToArray();
        bare.AddRange(Generated(Authorityish, 1500).Select(b => b.Trim(c0)).Where(b => b.Length > 0 && b[0] is not ('/' or '\\')));
        var oracle = RunNode([.. bare.Select(b => "http://" + b)]);

        var mismatches = new List<string>();
        for (int i = 0; i < bare.Count; i++)
        {
            bool ours = DestinationParser.TryParse(bare[i], out var d, out var error);
            var node = oracle[i];
            if (!node.Ok)
            {
                if (ours)
                {
                    mismatches.Add($"{Show(bare[i])}: node rejects, we accept {d}");
                }
            }
            else if (!ours)
            {
                string host = NormaliseNodeHost(node.Host);
                int port = node.Port.Length > 0 ? int.Parse(node.Port, System.Globalization.CultureInfo.InvariantCulture) : 80;
                if (!IsDocumentedStricterRule(bare[i], host, port, error!))
                {
                    mismatches.Add($"{Show(bare[i])}: node accepts {host}, we reject ({error})");
                }
            }
            else if (d.Host != NormaliseNodeHost(node.Host))
            {
                mismatches.Add($"{Show(bare[i])}: node {NormaliseNodeHost(node.Host)}, we {d.Host}");
            }
        }

        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {bare.Count} differ:\n" + string.Join('\n', mismatches.Take(40)));
    }

    /// <summary>Stricter than WHATWG, on purpose (docs/configuration.md).</summary>
    private static bool IsDocumentedStricterRule(string input, string host, int port, string error)
    {
        // Empty labels and DNS lengths: we reject such a host whatever else is wrong with it.
        var labels = host.Split('.');
        if (labels.Any(l => l.Length == 0 || l.Length > 63) || host.Length > 253)
        {
            return true;
        }

        if (error.Contains("URLs have no network destination", StringComparison.Ordinal))
        {
            return true; // mailto:, data:, javascript:, … are not network destinations
        }

        if (port == 0 && error.Contains("port 0", StringComparison.Ordinal))
        {
            return true; // port 0 is not a destination
        }

        // Punycode labels must decode and re-encode to themselves; WHATWG (with CheckHyphens off) lets a few odd ones through.
        return input.Contains("xn--", StringComparison.OrdinalIgnoreCase) && error.Contains("internationalised", StringComparison.Ordinal);
    }

    private static string NormaliseNodeHost(string host)
    {
        // Our deliberate differences: one trailing dot removed, IPv4-mapped IPv6 given as the IPv4 address.
        if (host.StartsWith('[') && IPAddress.TryParse(host.AsSpan(1, host.Length - 2), out var ip) && ip.IsIPv4MappedToIPv6)
        {
            return ip.MapToIPv4().ToString();
        }

        return host.EndsWith('.') ? host[..^1] : host;
    }

    private static string Show(string s) => JsonSerializer.Serialize(s);

    private static readonly Gen<char> HostChar = Gen.Frequency(
        (30, Gen.Char['a', 'z']),
        (8, Gen.Char['0', '9']),
        (6, Gen.Const('.')),
        (2, Gen.Const('-')),
        (2, Gen.Char["AZXx_"]),
        (2, Gen.Char["%"]),
        (1, Gen.Char[":@[]\\/#? \t<>^|*"]),
        (2, Gen.Char["üßς。．｡аÖé\u200d\u200c\u00adⓐ１"]),
        (1, Gen.Char['\u0000', '\u001f']));

    private static readonly Gen<string> Hostish = Gen.String[HostChar, 0, 24];

    private static readonly Gen<string> Ipv4Part = Gen.OneOf(
        Gen.Int[0, 300].Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Int[0, 300].Select(i => "0x" + i.ToString("x", System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Int[0, 300].Select(i => "0" + Convert.ToString(i, 8)),
        Gen.UInt.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Gen.UInt.Select(i => "0X" + i.ToString("X", System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Const(""), Gen.Const("09"), Gen.Const("0x"), Gen.Const("a"));

    private static readonly Gen<string> Ipv4ish = Gen.Select(Ipv4Part.Array[1, 5], Gen.Bool, (parts, dot) => string.Join('.', parts) + (dot ? "." : ""));

    private static readonly Gen<string> Ipv6Group = Gen.OneOf(
        Gen.Int[0, 0xffff].Select(i => i.ToString("x", System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Const("0"), Gen.Const("ffff"), Gen.Const("FFFF"), Gen.Const(""), Gen.Const("12345"), Gen.Const("g"),
        Gen.Select(Gen.Int[0, 256], Gen.Int[0, 255], (a, b) => $"{a}.{b}.1.2"));

    private static readonly Gen<string> Ipv6ish = Gen.Select(Ipv6Group.Array[1, 9], Gen.Int[0, 9], (groups, at) =>
    {
        var s = string.Join(':', groups);
        return at < groups.Length && at < 3 ? "::" + s : s;
    });

    private static readonly Gen<string> Authorityish = Gen.Select(
        Gen.OneOf<string>("", "user@", "user:pw@", "openai.com@", "openai.com:443@", "a@b@"),
        Hostish,
        Gen.OneOf<string>("", ":", ":80", ":443", ":0", ":65535", ":65536", ":x"),
        Gen.OneOf<string>("", "/", "/@openai.com", "\\@openai.com", "#@openai.com", "?@openai.com", "/x?y#z"),
        (u, h, p, rest) => u + h + p + rest);

    private static List<string> Generated(Gen<string> gen, int count)
    {
        var list = new List<string>(count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        gen.Sample(s =>
        {
            lock (list)
            {
                if (seen.Add(s))
                {
                    list.Add(s);
                }
            }
        }, iter: count, threads: 1);
        return list;
    }

    private sealed record NodeResult(bool Ok, string Host, string Port, string Protocol);

    private static List<NodeResult> RunNode(List<string> inputs)
    {
        string node = FindNode() ?? throw new Xunit.Sdk.XunitException(
            "node (v18+) is required for the WHATWG differential test but was not found on PATH or at /usr/bin/node; install nodejs");
        string script = Path.Combine(Path.GetTempPath(), $"egress-whatwg-oracle-{Environment.ProcessId}-{Guid.NewGuid():N}.js");
        File.WriteAllText(script, OracleScript);
        try
        {
            var psi = new ProcessStartInfo(node, [script])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                StandardInputEncoding = new System.Text.UTF8Encoding(false),
                StandardOutputEncoding = System.Text.Encoding.UTF8,
            };
            using var process = Process.Start(psi)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.StandardInput.Write(JsonSerializer.Serialize(inputs));
            process.StandardInput.Close();
            if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                throw new Xunit.Sdk.XunitException("node did not finish in 60 s");
            }

            Assert.True(process.ExitCode == 0, "node failed: " + stderr.Result);
            using var doc = JsonDocument.Parse(stdout.Result);
            return [.. doc.RootElement.EnumerateArray().Select(e => new NodeResult(
                e.GetProperty("ok").GetBoolean(), e.GetProperty("host").GetString()!, e.GetProperty("port").GetString()!, e.GetProperty("protocol").GetString()!))];
        }
        finally
        {
            File.Delete(script);
        }
    }

    private static string? FindNode()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator).Append("/usr/bin").Append("/usr/local/bin"))
        {
            if (dir.Length > 0 && File.Exists(Path.Combine(dir, "node")))
            {
                return Path.Combine(dir, "node");
            }
        }

        return null;
    }
}

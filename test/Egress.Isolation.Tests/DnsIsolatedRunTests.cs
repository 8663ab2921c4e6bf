using System.Globalization;
using Egress.TestUtils;
using static Egress.Isolation.Tests.IsolatedRunHarness;

namespace Egress.Isolation.Tests;

/// <summary>
/// DNS and UDP inside <c>egress-policy run</c> (isolated), with real programs: glibc's <c>getent</c>, <c>dig</c>,
/// Python. A denied name gets NXDOMAIN and a DENY event (source dns) wherever the query is sent; a UDP datagram
/// is a DENY (source udp) and reaches no counting listener; an allowed name resolves to its synthetic address
/// and a raw TCP connection to it is forwarded by the transparent path to what the name is outside.
/// </summary>
[Collection(DnsNamespaceGroup.Name)]
public sealed class DnsIsolatedRunTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task DeniedNameAndUdp_NxDomainDenyEventsNothingArrivesAndCiExit4()
    {
        using var counting = new UdpCountingListener();
        string port = counting.Port.ToString(CultureInfo.InvariantCulture);
        string script = $$"""
            getent hosts denied.example; echo "getent $?"
            dig +time=3 +tries=1 @127.0.0.1 TXT leak-1.denied.example | grep -o 'status: [A-Z]*'
            dig +time=3 +tries=1 @192.0.2.1 TXT leak-2.denied.example | grep -o 'status: [A-Z]*'
            dig +time=1 +tries=1 @127.0.0.1 -p {{port}} A leak-3.denied.example | grep -c 'status:'
            python3 -c '
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.sendto(b"secret", ("127.0.0.1", {{port}}))
            except OSError as e:
                print("udp error", e.errno)
            '
            exit 0
            """;
        var env = new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "allowed.example", ["CI"] = "true", ["EGRESS_CI_FAIL_ON_BLOCKED"] = "1" };

        var result = await RunScriptAsync(script, env, _dir.Path);

        Assert.Contains("getent 2", result.StdOut, StringComparison.Ordinal);
        Assert.Equal(2, result.StdOut.Split("status: NXDOMAIN").Length - 1);
        Assert.Contains("DENY denied.example source=dns", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("DENY leak-1.denied.example source=dns", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("DENY leak-2.denied.example source=dns", result.StdErr, StringComparison.Ordinal);
        Assert.Contains($"DENY 127.0.0.1:{port} source=udp", result.StdErr, StringComparison.Ordinal);
        Assert.Equal(0, counting.Count);
        Assert.Contains("EGRESS_CI_FAIL_ON_BLOCKED=1: exit 4", result.StdErr, StringComparison.Ordinal);
        Assert.Equal(4, result.ExitCode);
    }

    [Fact]
    public async Task AllowedName_SyntheticAnswerAndRawTcpThroughTheTransparentPath()
    {
        using var target = new CountingTarget();
        string port = target.Port.ToString(CultureInfo.InvariantCulture);
        string hosts = Path.Combine(_dir.Path, "hosts");
        await File.WriteAllTextAsync(hosts, "127.0.0.1 allowed.test\n");
        string script = $$"""
            export -n LD_PRELOAD NSS_WRAPPER_HOSTS; unset LD_PRELOAD NSS_WRAPPER_HOSTS
            getent ahostsv4 allowed.test | head -1
            python3 -c '
            import socket
            s = socket.create_connection(("allowed.test", {{port}}), timeout=10)
            s.sendall(b"raw\n")
            print("answer", s.recv(16))
            '
            """;
        var env = new Dictionary<string, string?>
        {
            // Outside (the policy proxy) resolves allowed.test to the counting target through nss_wrapper; the
            // command inside unsets it, so its only resolver is the namespace's.
            ["EGRESS_ALLOWLIST"] = $"=allowed.test:{port}",
            ["LD_PRELOAD"] = "libnss_wrapper.so",
            ["NSS_WRAPPER_HOSTS"] = hosts,
        };

        var result = await RunScriptAsync(script, env, _dir.Path);

        // First, with everything run said: a run that could not isolate prints its reason on stderr only.
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{result.StdOut}\n{result.StdErr}");
        Assert.Contains("198.18.", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("answer b'ok\\n'", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("2 allowed, 0 denied", result.StdErr, StringComparison.Ordinal); // the DNS answer and the connection
        Assert.Equal(1, target.Connections);
    }

    [Fact]
    public async Task DigReverse_SyntheticAddressAnswersTheName_OtherAddressesNxDomainAndRecorded()
    {
        string script = """
            addr=$(getent ahostsv4 allowed.example | head -1 | cut -d' ' -f1); echo "addr $addr"
            dig +time=3 +tries=1 +short -x "$addr"
            dig +time=3 +tries=1 -x 192.0.2.44 | grep -o 'status: [A-Z]*'
            dig +time=3 +tries=1 @192.0.2.1 -x 2001:db8::44 | grep -o 'status: [A-Z]*'
            exit 0
            """;
        var env = new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "allowed.example" };

        var result = await RunScriptAsync(script, env, _dir.Path);

        Assert.Contains("addr 198.18.", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("\nallowed.example.\n", result.StdOut, StringComparison.Ordinal); // dig +short -x of the synthetic address
        Assert.Equal(2, result.StdOut.Split("status: NXDOMAIN").Length - 1);
        Assert.Contains("DENY 44.2.0.192.in-addr.arpa source=dns", result.StdErr, StringComparison.Ordinal);
        Assert.Contains(".8.b.d.0.1.0.0.2.ip6.arpa source=dns", result.StdErr, StringComparison.Ordinal);
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task DatagramsSentJustBeforeTheCommandExits_AllInTheReport()
    {
        string script = """
            python3 -c '
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for i in range(200):
                try:
                    s.sendto(b"x", ("192.0.2.9", 20000 + i))
                except OSError:
                    pass
            '
            """;
        var env = new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "allowed.example" };

        var result = await RunScriptAsync(script, env, _dir.Path, "--json");

        // The command exits right after its last datagram; run still records every one (no quiet-period guess).
        Assert.Equal(200, Hosts(Report(result.StdErr), "denied").Length);
    }
}

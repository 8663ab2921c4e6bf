using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Egress.Isolation.Agent;
using Egress.Isolation.Dns;
using Egress.TestUtils;
using static Egress.Isolation.Tests.IsolatedRunHarness;

namespace Egress.Isolation.Tests;

/// <summary>
/// Two ways the namespace's set-up made a run depend on chance (both seen as one-off CI failures): the loopback
/// exemption of the agent's own ports, and the agent's temporary resolver file. Each is made to happen on purpose
/// here rather than waited for; and what run --probe needs to tell a chance port collision from a verdict.
/// </summary>
public sealed partial class NamespaceSetUpTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// The ports of the agent's listeners are the kernel's pick, so a destination the command chooses can have
    /// one of them by chance (run --probe's targets did). Connecting to 127.0.0.1 on the port of the IPv6
    /// transparent listener, or to [::1] on the relay's, was exempted from the redirect although nothing listens
    /// there in that family: refused, and recorded nowhere. It must be decided like any other connection.
    /// </summary>
    [Fact]
    public async Task ThePortOfAListenerOfTheOtherFamily_IsRedirectedAndDecided()
    {
        if (!File.Exists("/proc/net/if_inet6"))
        {
            return; // no IPv6: the namespace has only IPv4 listeners, so there is no other family's port to try
        }

        // Inside: the IPv6 transparent listener is the one listening TCP socket on ::1 besides DNS (/proc/net/tcp6
        // is the namespace's); the relay's port is in HTTP_PROXY.
        string script = """
            python3 -c '
            import os, socket
            def listening_on_ipv6_loopback():
                for line in open("/proc/net/tcp6").read().splitlines()[1:]:
                    fields = line.split()
                    host, port = fields[1].split(":")
                    if fields[3] == "0A" and host == "00000000000000000000000001000000" and int(port, 16) != 53:
                        return int(port, 16)
            def attempt(label, family, host, port):
                s = socket.socket(family, socket.SOCK_STREAM)
                s.settimeout(10)
                try:
                    s.connect((host, port))
                except OSError as e:
                    print(label, port, "refused", e.errno)
                    return
                try:
                    s.sendall(b"egress-policy test\r\n\r\n")
                    s.recv(64)
                except OSError:
                    pass
                print(label, port, "connected")
            attempt("v4", socket.AF_INET, "127.0.0.1", listening_on_ipv6_loopback())
            attempt("v6", socket.AF_INET6, "::1", int(os.environ["HTTP_PROXY"].rstrip("/").rsplit(":", 1)[1]))
            '
            """;
        var env = new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "allowed.example" };

        var result = await RunScriptAsync(script, env, _dir.Path, "--json");

        var denied = Hosts(Report(result.StdErr), "denied");
        var v4 = Attempt().Match(result.StdOut);
        var v6 = Attempt6().Match(result.StdOut);
        Assert.True(v4.Success && v6.Success, "the attempts did not report: " + result.StdOut + result.StdErr);
        Assert.True(v4.Groups[2].Value == "connected" && v6.Groups[2].Value == "connected", result.StdOut);
        Assert.Contains($"127.0.0.1:{v4.Groups[1].Value}", denied);
        Assert.Contains($"[::1]:{v6.Groups[1].Value}", denied);
        Assert.Equal(0, result.ExitCode);
    }

    /// <summary>
    /// The agent wrote its resolv.conf to <c>$TMPDIR/egress-resolv-&lt;pid&gt;.conf</c> — but it is PID 1 of its PID
    /// namespace, so every isolated run on the machine used <c>egress-resolv-1.conf</c>, and two starting at once
    /// deleted each other's file (the second: "cannot bind /etc/resolv.conf … No such file or directory", exit 2,
    /// the command never ran). With something already at that name the agent must still set up, leave it alone,
    /// and leave nothing of its own behind.
    /// </summary>
    [Fact]
    public async Task SomethingAtTheTemporaryResolverFilesOldName_DoesNotStopIsolation()
    {
        string tmp = _dir.File("tmp");
        string planted = Path.Combine(tmp, "egress-resolv-1.conf");
        Directory.CreateDirectory(planted);
        var env = new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "allowed.example", ["TMPDIR"] = tmp };

        var result = await RunScriptAsync("getent ahostsv4 allowed.example | head -1; grep -c '^nameserver 127.0.0.1$' /etc/resolv.conf", env, _dir.Path);

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{result.StdOut}\n{result.StdErr}");
        Assert.Contains("198.18.", result.StdOut, StringComparison.Ordinal);
        Assert.EndsWith("\n1\n", result.StdOut, StringComparison.Ordinal);
        Assert.Equal([planted], Directory.GetFileSystemEntries(tmp));
    }

    /// <summary>
    /// run --probe tells a chance port collision from a verdict by comparing its targets' ports with those of the
    /// listeners (ProbeJudge): they must arrive outside with the addresses they are bound to inside, and the NFLOG
    /// socket must not pass for an IP one.
    /// </summary>
    [Fact]
    public async Task TheListenersArriveWithTheAddressesTheyAreBoundToInside()
    {
        NamespaceSupport.Require();
        using var isolated = await IsolatedProcess.StartAsync(new IsolationStartInfo
        {
            Command = ["true"],
            AgentCommand = ["dotnet", Path.Combine(AppContext.BaseDirectory, "egress-policy.dll")],
        });
        int code = await isolated.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, code);
        var relay = Assert.IsType<IPEndPoint>(isolated.Listeners[AgentListener.Relay].LocalEndPoint);
        Assert.Equal(IPAddress.Loopback, relay.Address);
        Assert.NotEqual(0, relay.Port);
        var dns = Assert.IsType<IPEndPoint>(isolated.Listeners[NamespaceResolver.DnsTcp].LocalEndPoint);
        Assert.Equal(53, dns.Port);
        Assert.DoesNotContain(isolated.Listeners[NamespaceResolver.UdpLog].AddressFamily, (AddressFamily[])[AddressFamily.InterNetwork, AddressFamily.InterNetworkV6]);
    }

    [GeneratedRegex(@"^v4 (\d+) (\w+)", RegexOptions.Multiline)]
    private static partial Regex Attempt();

    [GeneratedRegex(@"^v6 (\d+) (\w+)", RegexOptions.Multiline)]
    private static partial Regex Attempt6();
}

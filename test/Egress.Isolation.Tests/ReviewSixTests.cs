using System.Net;
using System.Net.Sockets;
using Egress.Isolation.Probe;
using Egress.Policy.Events;
using Egress.TestUtils;

namespace Egress.Isolation.Tests;

/// <summary>
/// Review of the isolation set-up fixes (per-family exemption of the agent's ports, the resolver's temporary file)
/// and of run --probe's retry on chance port collisions: a collision must never hide an escape, and the temporary
/// file must be safe in a shared temporary directory.
/// </summary>
public sealed class ReviewSixTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// The agent writes the namespace's resolv.conf to a file in <c>$TMPDIR</c> (usually the shared /tmp) and binds
    /// it over /etc/resolv.conf. Under a permissive umask (000, not rare in containers) it was created 0666: any
    /// local user could open it in the window before it is unlinked, keep the descriptor and later rewrite the
    /// isolated command's resolver configuration. Whatever the umask, it must be writable by its owner only.
    /// </summary>
    [Fact]
    public async Task TheResolverFile_IsWritableByItsOwnerOnly_EvenUnderUmask000()
    {
        NamespaceSupport.Require();
        string tmp = _dir.File("tmp");
        Directory.CreateDirectory(tmp);
        string seen = _dir.File("mode");
        using var isolated = await IsolatedProcess.StartAsync(new IsolationStartInfo
        {
            Command = ["sh", "-c", $"stat -c %a /etc/resolv.conf > '{seen}'"],
            AgentCommand = ["sh", "-c", $"umask 000; TMPDIR='{tmp}' exec \"$@\"", "sh", "dotnet", Path.Combine(AppContext.BaseDirectory, "egress-policy.dll")],
        });
        int code = await isolated.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, code);
        Assert.Equal("644", File.ReadAllText(seen).Trim());
        Assert.Empty(Directory.GetFileSystemEntries(tmp));
    }

    /// <summary>
    /// A TMPDIR that does not exist (a stale value from another shell) stops isolation — fail closed — with a
    /// message that names the variable, not only a path of the agent's own making.
    /// </summary>
    [Fact]
    public async Task AMissingTmpdir_FailsClosed_NamingTheVariable()
    {
        string missing = _dir.File("no-such-dir");
        var env = new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "allowed.example", ["TMPDIR"] = missing };

        var result = await IsolatedRunHarness.RunScriptAsync("echo ran", env, _dir.Path);

        Assert.Equal(2, result.ExitCode);
        Assert.DoesNotContain("ran", result.StdOut, StringComparison.Ordinal);
        Assert.Contains($"{missing} (TMPDIR)", result.StdErr, StringComparison.Ordinal);
    }

    /// <summary>
    /// run --probe runs again only when every failure is a port collision; a route whose target saw a connection
    /// (or whose canary got an answer) escaped even when its port was also one of run's own, and is never a
    /// collision — otherwise a real escape that happened to share a port would be retried away.
    /// </summary>
    [Fact]
    public async Task Judge_AnEscapeOnACollidingPort_IsAnEscape_NeverACollision()
    {
        await using var targets = ProbeTargets.Start();
        int tcp = targets.PortOf(ProbeRoute.Tcp)!.Value;
        int http = targets.PortOf(ProbeRoute.HttpNoProxy)!.Value;
        int elsewhere = targets.PortOf(ProbeRoute.ProxyElsewhere)!.Value;
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, tcp);
            await client.GetStream().WriteAsync("x"u8.ToArray());
            _ = await client.GetStream().ReadAsync(new byte[256]);
        }

        for (int i = 0; i < 200 && targets.Hits(ProbeRoute.Tcp) == 0; i++)
        {
            await Task.Delay(25);
        }

        var canary = ProbeCanaries.ReadResults($"tcp\t-\tconnected\nhttp-noproxy\tanswered\tHTTP 200 {ProbeTargets.Marker}\nproxy-elsewhere\t-\tclosed\n");
        IPEndPoint[] own = [new(IPAddress.Loopback, tcp), new(IPAddress.Loopback, http), new(IPAddress.Loopback, elsewhere)];

        var verdicts = ProbeJudge.Judge(targets, canary, [], own).ToDictionary(v => v.Route.Name);

        Assert.Equal(ProbeOutcome.Escaped, verdicts["tcp"].Outcome);
        Assert.Equal(ProbeOutcome.Escaped, verdicts["http-noproxy"].Outcome);
        Assert.False(verdicts["tcp"].PortCollision || verdicts["http-noproxy"].PortCollision);
        Assert.True(verdicts["proxy-elsewhere"].PortCollision);

        // What RunProbe retries on: every failure a collision. With the escapes among them, it must not.
        var failed = verdicts.Values.Where(v => v.Failed).ToList();
        Assert.False(failed.All(v => v.PortCollision));
    }

    /// <summary>
    /// When the colliding listener is run's relay, the canary's direct request lands on the policy proxy. The
    /// proxy-elsewhere canary sends an absolute-form request for a denied name, which the proxy denies by that name:
    /// a denial is recorded, but by the proxy (source=proxy), not by the transparent interception the route exists
    /// to test (http-noproxy here stands for any other route a proxy denial matched by port). Taken as "blocked",
    /// that attempt passes a route it never exercised (a hole in the transparent path would go unseen); it must be
    /// a collision like any other, and so run again. A denial by the transparent forwarder (the colliding listener
    /// was the transparent one: it decided the very destination) still decides the route.
    /// </summary>
    [Fact]
    public async Task Judge_ADenialByTheRelayOnACollidingPort_IsACollision_NotABlock()
    {
        await using var targets = ProbeTargets.Start();
        int http = targets.PortOf(ProbeRoute.HttpNoProxy)!.Value;
        int elsewhere = targets.PortOf(ProbeRoute.ProxyElsewhere)!.Value;
        int tcp = targets.PortOf(ProbeRoute.Tcp)!.Value;
        var canary = ProbeCanaries.ReadResults(
            $"http-noproxy\t-\tvia 127.0.0.1:{http}: HTTP 403\nproxy-elsewhere\t-\tvia 127.0.0.1:{elsewhere}: HTTP 403\ntcp\t-\tclosed\n");
        EgressEvent[] events =
        [
            new() { Action = "DENY", Host = "127.0.0.1", Port = http, Source = "proxy" },
            new() { Action = "DENY", Host = targets.ElsewhereName, Port = 80, Source = "proxy" },
            new() { Action = "DENY", Host = "127.0.0.1", Port = tcp, Source = "proxy" },
            new() { Action = "DENY", Host = "127.0.0.1", Port = tcp, Source = "transparent" },
        ];
        IPEndPoint[] own = [new(IPAddress.Loopback, http), new(IPAddress.Loopback, elsewhere), new(IPAddress.Loopback, tcp)];

        var verdicts = ProbeJudge.Judge(targets, canary, events, own).ToDictionary(v => v.Route.Name);

        Assert.True(verdicts["http-noproxy"].PortCollision, verdicts["http-noproxy"].Outcome + " " + verdicts["http-noproxy"].Detail);
        Assert.True(verdicts["proxy-elsewhere"].PortCollision, verdicts["proxy-elsewhere"].Outcome + " " + verdicts["proxy-elsewhere"].Detail);
        Assert.Equal(ProbeOutcome.Undecided, verdicts["proxy-elsewhere"].Outcome);
        Assert.Equal(ProbeOutcome.Blocked, verdicts["tcp"].Outcome);
        Assert.False(verdicts["tcp"].PortCollision);
        Assert.Contains("source=transparent", verdicts["tcp"].Detail, StringComparison.Ordinal);

        // Without the listeners (no collision known) the same denials decide both routes, as before.
        var plain = ProbeJudge.Judge(targets, canary, events).ToDictionary(v => v.Route.Name);
        Assert.Equal(ProbeOutcome.Blocked, plain["proxy-elsewhere"].Outcome);
    }

    /// <summary>
    /// A collision is recognised by port and family only: the same port in the other family (where the per-family
    /// exemption no longer applies, so the connection was redirected and decided) is an ordinary undecided route,
    /// and so is a colliding route the proxy dials outside (proxy) or UDP.
    /// </summary>
    [Fact]
    public async Task Judge_TheSamePortInTheOtherFamily_OrOnTheProxyOrUdpRoute_IsNotACollision()
    {
        await using var targets = ProbeTargets.Start();
        int tcp = targets.PortOf(ProbeRoute.Tcp)!.Value;
        int proxy = targets.PortOf(ProbeRoute.Proxy)!.Value;
        int udp = targets.PortOf(ProbeRoute.Udp)!.Value;
        var canary = ProbeCanaries.ReadResults("tcp\t-\tclosed\nproxy\t-\tHTTP 403\nudp\t-\tsent 19 byte(s)\n");
        IPEndPoint[] own = [new(IPAddress.IPv6Loopback, tcp), new(IPAddress.Loopback, proxy), new(IPAddress.Loopback, udp)];

        var verdicts = ProbeJudge.Judge(targets, canary, [], own).ToDictionary(v => v.Route.Name);

        Assert.All(verdicts.Values, v => Assert.False(v.PortCollision, v.Route.Name));
        Assert.Equal(ProbeOutcome.Undecided, verdicts["tcp"].Outcome);
        Assert.Equal(ProbeOutcome.Undecided, verdicts["proxy"].Outcome);
        Assert.Equal(ProbeOutcome.Undecided, verdicts["udp"].Outcome);
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Egress.Isolation.Probe;
using Egress.Policy.Events;
using Egress.TestUtils;

namespace Egress.Isolation.Tests;

/// <summary>
/// <c>run --probe</c>: canaries inside the real isolated child try every escape route against denied
/// loopback targets. Isolated, every route must be blocked and recorded; not isolated (inside a network
/// namespace this test makes, so nothing can leave the machine), the probe must report the escapes and fail.
/// </summary>
public sealed class ProbeTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Probe_Isolated_EveryRouteBlockedAndRecorded_ExitsZero()
    {
        NamespaceSupport.Require();
        string journal = _dir.File("events.jsonl");
        var result = await ProcessRunner.RunCliAsync(
            ["run", "--probe", "--json"],
            new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "127.0.0.1,::1", ["EGRESS_EVENTS_FILE"] = journal },
            _dir.Path, TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}\n{result.StdOut}\n{result.StdErr}");
        var routes = Routes(result.StdOut);
        Assert.Equal(ProbeRoute.All.Select(r => r.Name), routes.Keys);
        foreach (var required in (string[])["proxy", "http-noproxy", "tcp", "udp", "dns-txt", "proxy-elsewhere"])
        {
            Assert.True(routes[required].Result == "blocked", $"{required}: {routes[required].Result} {routes[required].Detail}");
            Assert.Contains("DENY", routes[required].Detail, StringComparison.Ordinal);
        }

        Assert.Contains("source=dns", routes["dns-txt"].Detail, StringComparison.Ordinal);
        Assert.Contains("source=udp", routes["udp"].Detail, StringComparison.Ordinal);
        Assert.Contains("source=transparent", routes["tcp"].Detail, StringComparison.Ordinal);
        Assert.Contains(routes["curl-noproxy"].Result, (string[])["blocked", "skipped"]);
        Assert.Contains(routes["ipv6"].Result, (string[])["blocked", "skipped"]);

        // The probe has its own deny-all policy: the user's allowlist (which allows loopback) did not open
        // its targets, and it wrote nothing to the user's journal.
        Assert.False(File.Exists(journal) && new FileInfo(journal).Length > 0, "the probe wrote to EGRESS_EVENTS_FILE");
    }

    [Fact]
    public async Task Probe_Text_PrintsTableAndVerdict()
    {
        NamespaceSupport.Require();
        var result = await ProcessRunner.RunCliAsync(["run", "--probe"], new Dictionary<string, string?>(), _dir.Path, TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 0, result.StdOut + result.StdErr);
        Assert.Contains("raw TCP to a denied IPv4 address", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("0 escaped, 0 undecided", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("OK: every route tried was blocked", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_NotIsolated_ReportsEscapes_ExitsTwo()
    {
        NamespaceSupport.Require();

        // A network namespace of our own with only loopback: the unisolated canaries' DNS query has nowhere
        // to go, so nothing leaves this machine.
        string dll = Path.Combine(AppContext.BaseDirectory, "egress-policy.dll");
        var result = await ProcessRunner.RunAsync(
            "unshare", ["--net", "--map-root-user", "sh", "-c", "ip link set lo up && exec dotnet \"$0\" run --probe --isolation none --json", dll],
            new Dictionary<string, string?>(), _dir.Path, TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}\n{result.StdOut}\n{result.StdErr}");
        var routes = Routes(result.StdOut);
        foreach (var escaped in (string[])["http-noproxy", "tcp", "udp", "proxy-elsewhere"])
        {
            Assert.True(routes[escaped].Result == "escaped", $"{escaped}: {routes[escaped].Result} {routes[escaped].Detail}");
        }

        Assert.Equal("blocked", routes["proxy"].Result); // proxy-aware traffic is still decided without isolation
        Assert.NotEqual("blocked", routes["dns-txt"].Result);
        Assert.Contains("NOT isolated", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_WithACommand_IsAUsageError()
    {
        var withCommand = await ProcessRunner.RunCliAsync(["run", "--probe", "--", "true"], new Dictionary<string, string?>(), _dir.Path);
        var withoutAnything = await ProcessRunner.RunCliAsync(["run"], new Dictionary<string, string?>(), _dir.Path);
        var withSummary = await ProcessRunner.RunCliAsync(["run", "--probe", "--summary-out", "s.json"], new Dictionary<string, string?>(), _dir.Path);

        Assert.Equal(1, withCommand.ExitCode);
        Assert.Contains("--probe runs its own canaries", withCommand.StdErr, StringComparison.Ordinal);
        Assert.Equal(1, withoutAnything.ExitCode);
        Assert.Contains("give the command to run after --", withoutAnything.StdErr, StringComparison.Ordinal);
        Assert.Equal(1, withSummary.ExitCode);
        Assert.Contains("--summary-out does not apply to --probe", withSummary.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("s.json")));
    }

    [Fact]
    public async Task Judge_NeedsBothNothingReachedAndARecordedDenial()
    {
        await using var targets = ProbeTargets.Start();
        int tcpPort = targets.PortOf(ProbeRoute.Tcp)!.Value;
        int udpPort = targets.PortOf(ProbeRoute.Udp)!.Value;

        // Reach the tcp target for real: that route escaped whatever the events say.
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, tcpPort);
            await client.GetStream().WriteAsync("x"u8.ToArray());
            var buffer = new byte[256];
            _ = await client.GetStream().ReadAsync(buffer);
        }

        await WaitUntilAsync(() => targets.Hits(ProbeRoute.Tcp) > 0);
        var canary = ProbeCanaries.ReadResults(
            "tcp\t-\tconnected\nudp\t-\tsent 19 byte(s)\ndns-txt\tanswered\t127.0.0.1 answered NOERROR, 1 record(s)\nipv6\t-\tskip\nhttp-noproxy\t-\tclosed\nbogus line\n");
        EgressEvent[] events =
        [
            new() { Action = "DENY", Host = "127.0.0.1", Port = tcpPort, Source = "transparent" },
            new() { Action = "DENY", Host = "127.0.0.1", Port = udpPort, Source = "udp" },
            new() { Action = "DENY", Host = targets.DnsName, Port = 53, Source = "dns" },
            new() { Action = "ALLOW", Host = "127.0.0.1", Port = targets.PortOf(ProbeRoute.HttpNoProxy)!.Value, Source = "transparent" },
        ];

        var verdicts = ProbeJudge.Judge(targets, canary, events).ToDictionary(v => v.Route.Name);

        Assert.Equal(ProbeOutcome.Escaped, verdicts["tcp"].Outcome);
        Assert.Equal(ProbeOutcome.Blocked, verdicts["udp"].Outcome);
        Assert.Equal(ProbeOutcome.Escaped, verdicts["dns-txt"].Outcome); // an answer came back, even though a denial was recorded
        Assert.Equal(ProbeOutcome.Skipped, verdicts["ipv6"].Outcome); // the canary said skip and nothing reached the target
        Assert.Equal(ProbeOutcome.Undecided, verdicts["http-noproxy"].Outcome); // an ALLOW is not a denial
        Assert.Equal(ProbeOutcome.Undecided, verdicts["proxy"].Outcome); // the canary did not report it
        Assert.Contains("did not report", verdicts["proxy"].Detail, StringComparison.Ordinal);
        Assert.True(verdicts["tcp"].Failed && verdicts["http-noproxy"].Failed && !verdicts["udp"].Failed && !verdicts["ipv6"].Failed);
    }

    [Fact]
    public async Task Judge_ATargetOnThePortOfRunsOwnListenerInside_IsACollision_NotAVerdict()
    {
        await using var targets = ProbeTargets.Start();
        int tcp = targets.PortOf(ProbeRoute.Tcp)!.Value;
        int http = targets.PortOf(ProbeRoute.HttpNoProxy)!.Value;
        int curl = targets.PortOf(ProbeRoute.CurlNoProxy)!.Value;
        int udp = targets.PortOf(ProbeRoute.Udp)!.Value;
        var canary = ProbeCanaries.ReadResults("tcp\t-\tanswered 17 byte(s)\nhttp-noproxy\t-\tclosed\ncurl-noproxy\t-\tcurl exit 52\nudp\t-\tsent 19 byte(s)\n");
        EgressEvent[] events = [new() { Action = "DENY", Host = "127.0.0.1", Port = curl, Source = "transparent" }];

        // Inside, the relay had the tcp target's port, the IPv6 transparent listener the http one's (the other
        // family: 127.0.0.1 on it is redirected), a listener the curl one's (but a denial decided it) and the UDP one's.
        IPEndPoint[] own = [new(IPAddress.Loopback, tcp), new(IPAddress.IPv6Loopback, http), new(IPAddress.Loopback, curl), new(IPAddress.Loopback, udp)];
        var verdicts = ProbeJudge.Judge(targets, canary, events, own).ToDictionary(v => v.Route.Name);

        Assert.Equal(ProbeOutcome.Undecided, verdicts["tcp"].Outcome);
        Assert.True(verdicts["tcp"].PortCollision && verdicts["tcp"].Failed);
        Assert.Contains($"port {tcp} is also the port of run's own listener", verdicts["tcp"].Detail, StringComparison.Ordinal);
        Assert.Equal(ProbeOutcome.Undecided, verdicts["http-noproxy"].Outcome);
        Assert.False(verdicts["http-noproxy"].PortCollision);
        Assert.Equal(ProbeOutcome.Blocked, verdicts["curl-noproxy"].Outcome);
        Assert.False(verdicts["udp"].PortCollision);
        Assert.DoesNotContain(ProbeJudge.Judge(targets, canary, events), v => v.PortCollision);
    }

    private static Dictionary<string, (string Result, string Detail)> Routes(string stdout)
    {
        using var doc = JsonDocument.Parse(stdout);
        return doc.RootElement.GetProperty("routes").EnumerateArray().ToDictionary(
            r => r.GetProperty("route").GetString()!,
            r => (r.GetProperty("result").GetString()!, r.GetProperty("detail").GetString()!));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (int i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition(), "condition not met in 5 s");
    }
}

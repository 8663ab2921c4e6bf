using System.Runtime.InteropServices;
using System.Text.Json;
using Egress.Proxy.Tests.Support;
using Egress.TestUtils;

namespace Egress.Proxy.Tests;

/// <summary>The real CLI: <c>proxy</c> (with libnss-wrapper name mapping, SIGTERM), <c>run</c> and <c>lock --from-events</c>.</summary>
public sealed class CliProxyTests
{
    private static readonly string NssWrapper = new[] { "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so", "/usr/lib/aarch64-linux-gnu/libnss_wrapper.so" }
        .FirstOrDefault(File.Exists) ?? "libnss_wrapper.so (not installed)";

    [Fact]
    public async Task Proxy_NameMappedToPrivateAddress_IsDeniedUnlessNamedExactly()
    {
        Assert.True(File.Exists(NssWrapper), "apt-get install libnss-wrapper (.ci/run installs it)");
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("hosts"), "127.0.0.1 internal.corp.test\n");
        using var origin = new MiniHttpServer();
        var env = new Dictionary<string, string?> { ["LD_PRELOAD"] = NssWrapper, ["NSS_WRAPPER_HOSTS"] = dir.File("hosts") };

        string url = $"http://internal.corp.test:{origin.Port}/p";
        ProcessResult denied, allowed;
        using (var proxy = await ProxyProcess.StartAsync(new Dictionary<string, string?>(env) { ["EGRESS_ALLOWLIST"] = "corp.test" }))
        {
            denied = await Curl.RunAsync("-i", "-x", proxy.Url, url);
        }

        using (var proxy = await ProxyProcess.StartAsync(new Dictionary<string, string?>(env) { ["EGRESS_ALLOWLIST"] = "=internal.corp.test" }))
        {
            allowed = await Curl.RunAsync("-x", proxy.Url, url);
        }

        Assert.StartsWith("HTTP/1.1 403 Forbidden", denied.StdOut, StringComparison.Ordinal);
        Assert.Contains("X-Egress-Policy-Reason: internal.corp.test resolved to 127.0.0.1, a loopback address", denied.StdOut, StringComparison.Ordinal);
        Assert.Contains($"\"suggested_token\":\"=internal.corp.test:{origin.Port}\"", denied.StdOut, StringComparison.Ordinal);
        Assert.True(allowed.ExitCode == 0, allowed.StdErr);
        Assert.StartsWith("GET /p host=internal.corp.test:", allowed.StdOut, StringComparison.Ordinal);
        Assert.Equal(1, origin.Connections);
    }

    [Fact]
    public async Task Proxy_Sigterm_ShutsDownGracefullyWithExitZero()
    {
        using var proxy = await ProxyProcess.StartAsync(new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "example.com" });
        var health = await Curl.RunAsync(proxy.Url + "/healthz");

        Assert.True(ChildSignals.Send(proxy.Process.Id, PosixSignal.SIGTERM));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await proxy.Process.WaitForExitAsync(cts.Token);

        Assert.Matches("^ok sha256=[0-9a-f]{64}\n$", health.StdOut); // the gateway names the enforced policy (issue 12)
        Assert.Equal(0, proxy.Process.ExitCode);
    }

    [Fact]
    public async Task Run_CurlChild_PropagatesExitCodeAndWritesSummary()
    {
        using var dir = new TempDirectory();
        using var origin = new MiniHttpServer();
        string script = $"curl -s -o /dev/null http://127.0.0.1:{origin.Port}/ && curl -s -o /dev/null http://127.0.0.1:{origin.Port}/ && curl -s -o /dev/null https://blocked.example/; exit 3";

        var result = await ProcessRunner.RunCliAsync(["run", "--summary-out", "summary.json", "--", "sh", "-c", script],
            new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "127.0.0.1", ["NO_PROXY"] = "*" }, dir.Path);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("sh exited 3; 2 allowed, 1 denied", result.StdErr, StringComparison.Ordinal);
        Assert.Contains($"allowed: 127.0.0.1:{origin.Port} (2)", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("denied: blocked.example (1)", result.StdErr, StringComparison.Ordinal);
        using var summary = JsonDocument.Parse(File.ReadAllText(dir.File("summary.json")));
        var root = summary.RootElement;
        Assert.Equal(2, root.GetProperty("metrics").GetProperty("allowed_total").GetInt64());
        Assert.Equal(1, root.GetProperty("metrics").GetProperty("blocked_total").GetInt64());
        Assert.Equal("blocked.example", root.GetProperty("unique_blocked_hosts").GetProperty("hosts")[0].GetProperty("host").GetString());
        Assert.All(root.GetProperty("recent_events").EnumerateArray(), e => Assert.Equal("proxy", e.GetProperty("source").GetString()));
    }

    [Fact]
    public async Task Run_InCiWithFailOnBlocked_Exits4AndAnnotatesUnderActions()
    {
        var result = await ProcessRunner.RunCliAsync(["run", "--json", "--", "curl", "-s", "-o", "/dev/null", "http://blocked.example/"],
            new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "example.com", ["CI"] = "true", ["GITHUB_ACTIONS"] = "true", ["EGRESS_CI_FAIL_ON_BLOCKED"] = "1" });

        Assert.Equal(4, result.ExitCode);
        Assert.Contains("::warning title=Egress blocked::blocked egress to blocked.example (1 time)", result.StdOut, StringComparison.Ordinal);
        var json = result.StdErr[result.StdErr.IndexOf('{', StringComparison.Ordinal)..(result.StdErr.LastIndexOf('}') + 1)];
        using var report = JsonDocument.Parse(json);
        Assert.Equal(0, report.RootElement.GetProperty("exit_code").GetInt32());
        Assert.Equal("blocked.example", report.RootElement.GetProperty("denied")[0].GetProperty("host").GetString());
    }

    [Fact]
    public async Task Run_BlockedWithoutCi_KeepsChildExitCode()
    {
        var result = await ProcessRunner.RunCliAsync(["run", "--", "curl", "-s", "-o", "/dev/null", "http://blocked.example/"],
            new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "example.com", ["EGRESS_CI_FAIL_ON_BLOCKED"] = "1" });

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("1 denied", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MissingCommand_Exits127()
    {
        var result = await ProcessRunner.RunCliAsync(["run", "--", "/nonexistent/program"], new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "example.com" });

        Assert.Equal(127, result.ExitCode);
        Assert.Contains("cannot start", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_DotNetChild_UsesTheProxyThroughHttpClientDefaults()
    {
        using var dir = new TempDirectory();
        using var origin = new MiniHttpServer();
        File.WriteAllText(dir.File("client.cs"), """
            using var http = new HttpClient();
            var response = await http.GetAsync(args[0]);
            Console.WriteLine((int)response.StatusCode);
            return (int)response.StatusCode == 200 ? 0 : 9;
            """);
        var build = await ProcessRunner.RunAsync("dotnet", ["build", "client.cs", "-o", dir.File("out")], workingDirectory: dir.Path, timeout: TimeSpan.FromMinutes(4));
        Assert.True(build.ExitCode == 0, build.StdOut + build.StdErr);
        string client = dir.File("out/client.dll");

        var allowed = await ProcessRunner.RunCliAsync(["run", "--", "dotnet", client, $"http://127.0.0.1:{origin.Port}/"], new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "127.0.0.1" });
        var denied = await ProcessRunner.RunCliAsync(["run", "--", "dotnet", client, $"http://127.0.0.1:{origin.Port}/"], new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "example.com" });

        Assert.Equal(0, allowed.ExitCode);
        Assert.Equal("200\n", allowed.StdOut);
        Assert.Equal(9, denied.ExitCode);
        Assert.Equal("403\n", denied.StdOut);
        Assert.Equal(1, origin.Connections);
    }

    [Fact]
    public async Task LockFromEvents_AuditRunJournal_ProposesNarrowTokensAndWritesOnlyWhenAsked()
    {
        using var dir = new TempDirectory();
        using var origin = new MiniHttpServer();
        string script = $"curl -s -o /dev/null http://127.0.0.1:{origin.Port}/; curl -s -o /dev/null http://localhost:{origin.Port}/; curl -s -m 5 -o /dev/null http://a.api.unresolvable.invalid/; curl -s -m 5 -o /dev/null http://b.api.unresolvable.invalid/";
        var env = new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "example.com", ["EGRESS_ENFORCE"] = "0", ["EGRESS_EVENTS_FILE"] = "events.jsonl" };

        var run = await ProcessRunner.RunCliAsync(["run", "--", "sh", "-c", script], env, dir.Path);
        var proposal = await ProcessRunner.RunCliAsync(["lock", "--from-events", "events.jsonl"], null, dir.Path);
        var written = await ProcessRunner.RunCliAsync(["lock", "--from-events", "events.jsonl", "--file", "learned.lock"], null, dir.Path);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("4 would be denied", run.StdErr, StringComparison.Ordinal);
        Assert.Equal(0, proposal.ExitCode);
        Assert.Contains($"# EGRESS_ALLOWLIST=127.0.0.1:{origin.Port},=localhost:{origin.Port},api.unresolvable.invalid", proposal.StdOut, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("policy_allowlist.lock")));
        Assert.Equal(0, written.ExitCode);
        var tokens = File.ReadAllLines(dir.File("learned.lock")).Where(l => l.Length > 0 && l[0] != '#');
        Assert.Equal([$"127.0.0.1:{origin.Port}", $"=localhost:{origin.Port}", "api.unresolvable.invalid"], tokens);
    }
}

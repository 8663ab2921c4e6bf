using System.Text.Json;
using Egress.Policy.Events;
using Egress.TestUtils;
using static Egress.Isolation.Tests.IsolatedRunHarness;

namespace Egress.Isolation.Tests;

/// <summary>
/// Real programs inside <c>egress-policy run</c> (isolated): curl through the proxy and with
/// <c>--noproxy</c>, bash <c>/dev/tcp</c>, raw Python sockets, Node <c>fetch</c> and <c>http.get</c>.
/// Counting targets on the host's loopback prove that allowed destinations answer and that not one
/// connection reaches a denied one.
/// </summary>
public sealed class IsolatedRunTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly CountingTarget _allowed = new();
    private readonly CountingTarget _denied = new();

    public void Dispose()
    {
        _allowed.Dispose();
        _denied.Dispose();
        _dir.Dispose();
    }

    private Dictionary<string, string?> Env(params (string, string)[] more)
    {
        var env = new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = $"127.0.0.1:{_allowed.Port}" };
        foreach (var (k, v) in more)
        {
            env[k] = v;
        }

        return env;
    }

    [Fact]
    public async Task Curl_BashDevTcp_PythonSocket_AllowedAnswer_DeniedNeverReached()
    {
        int a = _allowed.Port, d = _denied.Port;
        string script = $$"""
            curl -s -o /dev/null -w 'proxy-allowed %{http_code}\n' http://127.0.0.1:{{a}}/
            curl -s --noproxy '*' -o /dev/null -w 'noproxy-allowed %{http_code}\n' http://127.0.0.1:{{a}}/
            curl -s -o /dev/null -w 'proxy-denied %{http_code}\n' http://127.0.0.1:{{d}}/
            curl -s --noproxy '*' -o /dev/null -w 'noproxy-denied %{http_code}\n' http://127.0.0.1:{{d}}/
            env -u HTTP_PROXY -u http_proxy -u ALL_PROXY -u all_proxy curl -s -o /dev/null -w 'unset-denied %{http_code}\n' http://127.0.0.1:{{d}}/
            (exec 3<>/dev/tcp/127.0.0.1/{{d}} && printf 'x\n' >&3 && echo "devtcp-denied [$(cat <&3)]")
            python3 -c '
            import socket
            for name, port in (("allowed", {{a}}), ("denied", {{d}})):
                try:
                    s = socket.create_connection(("127.0.0.1", port)); s.sendall(b"raw\n"); print("python-" + name, s.recv(16))
                except OSError as e:
                    print("python-" + name, "error", e.errno)
            '
            exit 5
            """;
        var result = await RunScriptAsync(script, Env(), _dir.Path, "--json");

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("proxy-allowed 200", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("noproxy-allowed 200", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("proxy-denied 403", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("noproxy-denied 403", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("unset-denied 403", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("devtcp-denied []", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("python-allowed b'ok\\n'", result.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("python-denied b'ok", result.StdOut, StringComparison.Ordinal);
        Assert.Equal(0, _denied.Connections);
        Assert.Equal(3, _allowed.Connections);
        var report = Report(result.StdErr);
        Assert.Equal("netns", report.GetProperty("isolation").GetString());
        Assert.True(report.GetProperty("isolated").GetBoolean());
        Assert.Contains($"127.0.0.1:{d}", Hosts(report, "denied")); // the port is kept (issue 10 item 5)
        Assert.Contains("source=transparent", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("source=proxy", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Node_FetchAndHttpGet_IgnoreProxyVariables_AreDecidedAnyway()
    {
        int a = _allowed.Port, d = _denied.Port;
        string script = $$"""
            node -e '
            const http = require("http");
            const get = (port) => new Promise((resolve) => {
              const req = http.get({ host: "127.0.0.1", port, path: "/" }, (res) => { res.resume(); resolve("status " + res.statusCode); });
              req.on("error", (e) => resolve("error " + e.code));
            });
            const f = (port) => fetch("http://127.0.0.1:" + port + "/").then((r) => "status " + r.status, (e) => "error");
            (async () => {
              console.log("get-allowed", await get({{a}}));
              console.log("get-denied", await get({{d}}));
              console.log("fetch-allowed", await f({{a}}));
              console.log("fetch-denied", await f({{d}}));
            })();
            '
            """;
        var result = await RunScriptAsync(script, Env(), _dir.Path);

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Contains("get-allowed status 200", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("get-denied status 403", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("fetch-allowed status 200", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("fetch-denied status 403", result.StdOut, StringComparison.Ordinal);
        Assert.Equal(0, _denied.Connections);
        Assert.Equal(2, _allowed.Connections);
        Assert.Contains("2 allowed, 2 denied", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DotNet_HttpClientWithUseProxyFalse_IsDecidedAnyway()
    {
        NamespaceSupport.Require();
        File.WriteAllText(_dir.File("client.cs"), """
            using var http = new HttpClient(new HttpClientHandler { UseProxy = false });
            foreach (var url in args)
            {
                try { Console.WriteLine((int)(await http.GetAsync(url)).StatusCode); }
                catch (HttpRequestException) { Console.WriteLine("error"); }
            }
            """);
        var build = await ProcessRunner.RunAsync("dotnet", ["build", "client.cs", "-o", _dir.File("out")], workingDirectory: _dir.Path, timeout: TimeSpan.FromMinutes(4));
        Assert.True(build.ExitCode == 0, build.StdOut + build.StdErr);

        var result = await ProcessRunner.RunCliAsync(
            ["run", "--", "dotnet", _dir.File("out/client.dll"), $"http://127.0.0.1:{_allowed.Port}/", $"http://127.0.0.1:{_denied.Port}/"], Env(), _dir.Path, TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Equal("200\n403\n", result.StdOut);
        Assert.Equal(1, _allowed.Connections);
        Assert.Equal(0, _denied.Connections);
        Assert.Contains("source=transparent", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnyAddressAndIPv6_AreRedirectedAndDecided_NothingLeaves()
    {
        // 192.0.2.1 (TEST-NET-1) and [::1] exist only inside run's namespace here: the connection is
        // redirected to the forwarder, denied, and never dialled.
        string script = """
            curl -s --noproxy '*' -o /dev/null -w 'testnet %{http_code}\n' --max-time 10 http://192.0.2.1:8080/
            curl -s --noproxy '*' -o /dev/null -w 'v6 %{http_code}\n' --max-time 10 http://[::1]:9/
            curl -s --noproxy '*' -o /dev/null -w 'v6doc %{http_code}\n' --max-time 10 http://[2001:db8::7]:443/
            """;
        var result = await RunScriptAsync(script, Env(), _dir.Path, "--json");

        Assert.Contains("testnet 403", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("v6 403", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("v6doc 403", result.StdOut, StringComparison.Ordinal);
        var denied = Hosts(Report(result.StdErr), "denied");
        Assert.Contains("192.0.2.1:8080", denied);
        Assert.Contains("[::1]:9", denied);
        Assert.Contains("[2001:db8::7]", denied);
    }

    [Fact]
    public async Task TheNameComesFromTlsSniAndHttpHost_NotTheAddressTheChildDialled()
    {
        // Both connections go to the allowed target's address; the names they carry are denied, so neither is
        // dialled (the forwarder connects to what the decided name resolves to, never to the child's address).
        int a = _allowed.Port;
        string script = $$"""
            curl -sk --noproxy '*' --max-time 10 -o /dev/null -w 'sni %{http_code}\n' --resolve denied.example:{{a}}:127.0.0.1 https://denied.example:{{a}}/
            curl -s --noproxy '*' --max-time 10 -o /dev/null -w 'host %{http_code}\n' -H 'Host: evil.example' http://127.0.0.1:{{a}}/
            """;
        var result = await RunScriptAsync(script, Env(), _dir.Path, "--json");

        Assert.Contains("host 403", result.StdOut, StringComparison.Ordinal);
        var denied = Hosts(Report(result.StdErr), "denied");
        Assert.Contains($"denied.example:{a}", denied);
        Assert.Contains($"evil.example:{a}", denied);
        Assert.Equal(0, _allowed.Connections);
    }

    [Fact]
    public async Task AuditTrail_CannotBeTruncatedForgedOrReplaced_AndTheNetworkCannotBeChanged()
    {
        string journal = _dir.File("events.jsonl");
        string summary = _dir.File("summary.json");
        string script = $$"""
            curl -s --noproxy '*' -o /dev/null http://127.0.0.1:{{_denied.Port}}/
            : > "$EGRESS_EVENTS_FILE" 2>/dev/null && echo TRUNCATED
            echo '{"action":"ALLOW","host":"forged.example","port":443}' >> "$EGRESS_EVENTS_FILE" 2>/dev/null && echo FORGED
            rm -f "$EGRESS_EVENTS_FILE" 2>/dev/null && echo REMOVED
            mv -f /etc/hostname "$EGRESS_EVENTS_FILE" 2>/dev/null && echo REPLACED
            echo '{}' > {{summary}} 2>/dev/null && echo SUMMARY-WRITTEN
            umount "$EGRESS_EVENTS_FILE" 2>/dev/null && echo UNMOUNTED
            nft flush ruleset 2>/dev/null && echo FLUSHED
            ip link set lo down 2>/dev/null && echo LO-DOWN
            echo done
            """;
        var result = await RunScriptAsync(script, Env(("EGRESS_EVENTS_FILE", journal)), _dir.Path, "--summary-out", summary);

        Assert.True(result.ExitCode == 0, result.StdErr);
        Assert.Equal("done\n", result.StdOut);
        var lines = File.ReadAllLines(journal);
        var evt = Assert.Single(lines);
        var parsed = EventJournal.TryParseLine(System.Text.Encoding.UTF8.GetBytes(evt));
        Assert.NotNull(parsed);
        Assert.Equal("DENY", parsed.Action);
        Assert.Equal("transparent", parsed.Source);
        using var doc = JsonDocument.Parse(File.ReadAllText(summary));
        Assert.Equal("netns", doc.RootElement.GetProperty("isolation").GetString());
        Assert.Equal(1, doc.RootElement.GetProperty("metrics").GetProperty("blocked_total").GetInt64());
        Assert.Equal(0, _denied.Connections);
    }

    [Fact]
    public async Task NoDescendantOutlivesRun()
    {
        const string Marker = "3171.5";
        var result = await RunScriptAsync($"setsid sleep {Marker} </dev/null >/dev/null 2>&1 & disown; nohup sleep {Marker} >/dev/null 2>&1 & exit 0", Env(), _dir.Path);

        Assert.True(result.ExitCode == 0, result.StdErr);
        var survivors = Directory.GetDirectories("/proc").Where(p => int.TryParse(Path.GetFileName(p), out _)).Where(p =>
        {
            try
            {
                return File.ReadAllText(Path.Combine(p, "cmdline")).Contains(Marker, StringComparison.Ordinal);
            }
            catch (IOException)
            {
                return false;
            }
            catch (UnauthorizedAccessException)
            {
                return false;
            }
        }).ToList();
        Assert.Empty(survivors);
    }

    [Fact]
    public async Task InCi_FailOnBlocked_ATransparentDenialAloneExits4()
    {
        var result = await RunScriptAsync($"curl -s --noproxy '*' -o /dev/null http://127.0.0.1:{_denied.Port}/; exit 0",
            Env(("CI", "true"), ("EGRESS_CI_FAIL_ON_BLOCKED", "1")), _dir.Path);

        Assert.Equal(4, result.ExitCode);
        Assert.Equal(0, _denied.Connections);
    }

    [Fact]
    public async Task IsolationNone_SaysLoudlyTheCommandWasNotIsolated()
    {
        string summary = _dir.File("summary.json");
        var result = await ProcessRunner.RunCliAsync(["run", "--isolation", "none", "--json", "--summary-out", summary, "--", "true"], Env(("GITHUB_ACTIONS", "true")), _dir.Path);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("WARNING: the command was NOT isolated", result.StdErr, StringComparison.Ordinal);
        Assert.False(Report(result.StdErr).GetProperty("isolated").GetBoolean());
        Assert.Contains("::warning", result.StdOut, StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(File.ReadAllText(summary));
        Assert.Equal("none", doc.RootElement.GetProperty("isolation").GetString());
        Assert.Contains(doc.RootElement.GetProperty("verification").GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("NOT isolated", StringComparison.Ordinal));
    }

    [Fact]
    public async Task BadIsolationValue_IsAUsageErrorNamingTheFlagOrVariable()
    {
        var flag = await ProcessRunner.RunCliAsync(["run", "--isolation", "chroot", "--", "true"], Env(), _dir.Path);
        var variable = await ProcessRunner.RunCliAsync(["run", "--", "true"], Env(("EGRESS_ISOLATION", "chroot")), _dir.Path);

        Assert.Equal(1, flag.ExitCode);
        Assert.Contains("--isolation", flag.StdErr, StringComparison.Ordinal);
        Assert.Equal(1, variable.ExitCode);
        Assert.Contains("EGRESS_ISOLATION must be 'netns' or 'none'", variable.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "unset")]
    [InlineData("0", "0")]
    public async Task TheAgentsOwnGlobalizationSetting_DoesNotReachTheCommand(string? value, string expected)
    {
        NamespaceSupport.Require();
        var env = Env();
        env["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = value; // null: not in the environment at all

        var result = await ProcessRunner.RunCliAsync(["run", "--", "sh", "-c", "echo \"invariant=${DOTNET_SYSTEM_GLOBALIZATION_INVARIANT-unset}\""], env, _dir.Path);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("invariant=" + expected + "\n", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheCommandHasNoCapabilitiesAndNoNewPrivs()
    {
        NamespaceSupport.Require();
        var result = await ProcessRunner.RunCliAsync(["run", "--", "grep", "-E", "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):", "/proc/self/status"], Env(), _dir.Path);

        Assert.True(result.ExitCode == 0, result.StdErr);
        var fields = result.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(':', 2)).ToDictionary(p => p[0], p => p[1].Trim());
        Assert.Equal(
            ["CapAmb=0000000000000000", "CapBnd=0000000000000000", "CapEff=0000000000000000", "CapInh=0000000000000000", "CapPrm=0000000000000000", "NoNewPrivs=1"],
            fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => f.Key + "=" + f.Value));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task TheCommandIsFoundOnPathAsExecvpFindsIt_NotInTheWorkingDirectory()
    {
        NamespaceSupport.Require();
        var impostor = _dir.File("true");
        File.WriteAllText(impostor, "#!/bin/sh\necho IMPOSTOR\nexit 3\n");
        File.SetUnixFileMode(impostor, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var notExecutable = _dir.File("plain.sh");
        File.WriteAllText(notExecutable, "echo hi\n");

        var noShebang = _dir.File("no-shebang");
        File.WriteAllText(noShebang, "echo \"from sh: $1\"\n");
        File.SetUnixFileMode(noShebang, UnixFileMode.UserRead | UnixFileMode.UserExecute);

        var found = await ProcessRunner.RunCliAsync(["run", "--", "true"], Env(), _dir.Path);
        var denied = await ProcessRunner.RunCliAsync(["run", "--", notExecutable], Env(), _dir.Path);
        var script = await ProcessRunner.RunCliAsync(["run", "--", noShebang, "arg"], Env(), _dir.Path);

        Assert.Equal((0, string.Empty), (found.ExitCode, found.StdOut));
        Assert.Equal((0, "from sh: arg\n"), (script.ExitCode, script.StdOut));
        Assert.Equal(126, denied.ExitCode);
        Assert.Contains($"cannot start '{notExecutable}': Permission denied", denied.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RootThroughSudo_WarnsThatOnlyTheNetworkIsIsolated()
    {
        NamespaceSupport.Require();
        var plain = await ProcessRunner.RunCliAsync(["run", "--", "true"], Env(), _dir.Path);
        var sudo = await ProcessRunner.RunCliAsync(["run", "--", "true"], Env(("SUDO_UID", "1000")), _dir.Path);

        Assert.Equal((0, 0), (plain.ExitCode, sudo.ExitCode));
        Assert.DoesNotContain("through sudo", plain.StdErr, StringComparison.Ordinal);
        if (Environment.UserName == "root")
        {
            Assert.Contains("WARNING: running as root through sudo: the command's network is isolated", sudo.StdErr, StringComparison.Ordinal);
        }
        else
        {
            Assert.DoesNotContain("through sudo", sudo.StdErr, StringComparison.Ordinal); // a user namespace: the command is not root outside
        }
    }

    [Fact]
    public async Task CommandNotFound_Exits127_WithAReport()
    {
        NamespaceSupport.Require();
        var result = await ProcessRunner.RunCliAsync(["run", "--", "/no/such/program"], Env(), _dir.Path);

        Assert.Equal(127, result.ExitCode);
        Assert.Contains("cannot start '/no/such/program'", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("egress-policy run: program exited 127", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CurlKeepAlive_SecondRequestForADeniedHostOnTheSameConnection_Refused()
    {
        using var target = new KeepAliveTarget();
        int p = target.Port;
        string script = $$"""
            curl -s --noproxy '*' -o /dev/null -w 'first %{http_code} %{num_connects}\n' http://127.0.0.1:{{p}}/a \
              --next -s --noproxy '*' -H 'Host: denied.example' -o /dev/null -w 'second %{http_code} %{num_connects}\n' http://127.0.0.1:{{p}}/b
            """;
        var env = new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = $"127.0.0.1:{p}" };

        var result = await RunScriptAsync(script, env, _dir.Path, "--json");

        Assert.Contains("first 200 1", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("second 403 0", result.StdOut, StringComparison.Ordinal); // the same connection, refused
        Assert.Equal([$"127.0.0.1:{p}"], target.Hosts);
        Assert.Equal(1, target.Connections);
        Assert.Contains("DENY denied.example", result.StdErr, StringComparison.Ordinal);
        Assert.Contains($"denied.example:{p}", Hosts(Report(result.StdErr), "denied"));
    }
}

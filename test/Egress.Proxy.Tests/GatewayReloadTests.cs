using System.Collections.Immutable;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Proxy.Gateway;
using Egress.Proxy.Tests.Support;
using Egress.TestUtils;

namespace Egress.Proxy.Tests;

/// <summary>
/// The gateway's reload (src/Egress.Proxy/Gateway): a new policy file is swapped in atomically, a bad one
/// never replaces the running policy, open tunnels keep their decision, kept-alive upstreams are decided
/// again, and the enforced SHA-256 is visible on /healthz and as egress_policy_info.
/// </summary>
public sealed class GatewayReloadTests
{
    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    [InlineData("example.com\n*\n")]
    [InlineData("example.com\n0.0.0.0/0\n")]
    [InlineData("exa mple.com\n")]
    public void PolicyFile_FailingTheVerifyRules_IsRejected_NamingTheFile(string content)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("policy.lock"), content);
        Assert.False(PolicyFile.TryLoad(dir.File("policy.lock"), out Egress.Policy.Roles.RoleFileContent? _, out _, out var error));
        Assert.Contains(dir.File("policy.lock"), error, StringComparison.Ordinal);
    }

    [Fact]
    public void PolicyFile_NotUtf8OrMissing_IsRejected()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("policy.lock"), [0x65, 0x78, 0xff, 0x0a]);
        Assert.False(PolicyFile.TryLoad(dir.File("policy.lock"), out Egress.Policy.Roles.RoleFileContent? _, out _, out var notUtf8));
        Assert.Contains("UTF-8", notUtf8, StringComparison.Ordinal);
        Assert.False(PolicyFile.TryLoad(dir.File("missing.lock"), out Egress.Policy.Roles.RoleFileContent? _, out _, out var missing));
        Assert.Contains("does not exist", missing, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reload_SwapsThePolicy_ForNewRequests()
    {
        using var origin = new MiniHttpServer();
        await using var gateway = await Gateway.StartAsync($"127.0.0.1:{origin.Port}\n");
        Assert.Equal(200, await gateway.StatusAsync($"http://127.0.0.1:{origin.Port}/"));

        gateway.Write("=only.example\n");
        await gateway.ReloadedAsync();
        Assert.Equal(403, await gateway.StatusAsync($"http://127.0.0.1:{origin.Port}/"));
        Assert.Equal(1, gateway.Holder.Current.Generation);
        Assert.Equal("unchanged", await gateway.Reloader.ReloadAsync());
    }

    [Fact]
    public async Task Reload_OfABadFile_KeepsTheRunningPolicy_AndCountsRejected()
    {
        using var origin = new MiniHttpServer();
        await using var gateway = await Gateway.StartAsync($"127.0.0.1:{origin.Port}\n");
        string before = gateway.Holder.Current.Sha256;
        using var reloads = new ReloadCounter();

        gateway.Write("*\n");
        Assert.Equal("rejected", await gateway.Reloader.ReloadAsync());
        gateway.Write("");
        Assert.Equal("rejected", await gateway.Reloader.ReloadAsync());
        File.Delete(gateway.PolicyPath);
        Assert.Equal("rejected", await gateway.Reloader.ReloadAsync());

        Assert.Equal(before, gateway.Holder.Current.Sha256);
        Assert.Equal(200, await gateway.StatusAsync($"http://127.0.0.1:{origin.Port}/"));
        // The watcher may count the same bad file again: at least one rejection per bad file.
        Assert.True(reloads.Count("rejected") >= 3, $"{reloads.Count("rejected")} rejected reloads counted");
        Assert.Equal(0, reloads.Count("accepted"));
        Assert.Contains("reload rejected, still enforcing sha256 " + before, gateway.Log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenTunnel_KeepsItsDecision_NewTunnelsFollowTheNewPolicy()
    {
        using var echo = new EchoServer();
        await using var gateway = await Gateway.StartAsync($"127.0.0.1:{echo.Port}\n");
        using var tunnel = await gateway.ConnectAsync($"127.0.0.1:{echo.Port}");
        Assert.Equal("one", await tunnel.EchoAsync("one"));

        gateway.Write("=only.example\n");
        await gateway.ReloadedAsync();

        Assert.Equal("two", await tunnel.EchoAsync("two"));
        var refused = await gateway.RawAsync($"CONNECT 127.0.0.1:{echo.Port} HTTP/1.1\r\nHost: 127.0.0.1:{echo.Port}\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 403", refused, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BulkTransferThroughATunnel_Survives100Reloads_WithZeroErrors()
    {
        using var echo = new EchoServer();
        await using var gateway = await Gateway.StartAsync($"127.0.0.1:{echo.Port}\n");
        using var tunnel = await gateway.ConnectAsync($"127.0.0.1:{echo.Port}");
        const int Chunk = 64 * 1024, Chunks = 512; // 32 MiB each way
        var sent = new byte[Chunk];
        new Random(12).NextBytes(sent);
        var reader = Task.Run(async () =>
        {
            var buffer = new byte[Chunk];
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            for (int i = 0; i < Chunks; i++)
            {
                await tunnel.Stream.ReadExactlyAsync(buffer, cts.Token);
                Assert.True(buffer.AsSpan().SequenceEqual(sent), $"chunk {i} differs");
            }
        });
        int reloads = 0;
        for (int i = 0; i < Chunks; i++)
        {
            await tunnel.Stream.WriteAsync(sent);
            if (i % 5 == 0 && reloads < 100)
            {
                // Alternate between a policy that still allows the destination and one that denies it.
                gateway.Write(reloads % 2 == 0 ? "=only.example\n" : $"127.0.0.1:{echo.Port}\n# {reloads}\n");
                Assert.NotEqual("rejected", await gateway.Reloader.ReloadAsync());
                reloads++;
            }
        }

        await reader;
        Assert.Equal(100, reloads);
        Assert.True(gateway.Holder.Current.Generation >= 100, $"generation {gateway.Holder.Current.Generation}");
        Assert.DoesNotContain("rejected", gateway.Log.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeptAliveUpstream_IsDecidedAgain_AfterAReload()
    {
        using var origin = new MiniHttpServer();
        await using var gateway = await Gateway.StartAsync($"127.0.0.1:{origin.Port}\n");
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, gateway.Port);
        var stream = client.GetStream();
        string request = $"GET http://127.0.0.1:{origin.Port}/a HTTP/1.1\r\nHost: 127.0.0.1:{origin.Port}\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        Assert.StartsWith("HTTP/1.1 200", await ReadResponseAsync(stream), StringComparison.Ordinal);

        gateway.Write("=only.example\n");
        await gateway.ReloadedAsync();

        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        Assert.StartsWith("HTTP/1.1 403", await ReadResponseAsync(stream), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FileChange_IsNoticedWithoutASignal()
    {
        using var origin = new MiniHttpServer();
        await using var gateway = await Gateway.StartAsync($"127.0.0.1:{origin.Port}\n");
        gateway.Write("=only.example\n");
        // Bounded wait for the watcher (or the 5 s poll under it); no timing is asserted.
        for (int i = 0; i < 200 && gateway.Holder.Current.Generation == 0; i++)
        {
            await Task.Delay(100);
        }

        Assert.Equal(1, gateway.Holder.Current.Generation);
        Assert.Equal(403, await gateway.StatusAsync($"http://127.0.0.1:{origin.Port}/"));
    }

    [Fact]
    public async Task Healthz_AndTheInfoGauge_NameTheEnforcedSha256()
    {
        await using var gateway = await Gateway.StartAsync("=a.example\n");
        string sha = gateway.Holder.Current.Sha256;
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("=a.example\n"u8)), sha);
        var health = await gateway.RawAsync("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        Assert.EndsWith($"ok sha256={sha}\n", health, StringComparison.Ordinal);
        Assert.Equal(sha, InfoGauge());

        gateway.Write("=b.example\n");
        await gateway.ReloadedAsync();
        Assert.EndsWith($"ok sha256={gateway.Holder.Current.Sha256}\n", await gateway.RawAsync("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), StringComparison.Ordinal);
        Assert.Equal(gateway.Holder.Current.Sha256, InfoGauge());
    }

    private static string? InfoGauge()
    {
        string? seen = null;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == GatewayMetrics.MeterName && i.Name == "egress.policy.info")
            {
                l.EnableMeasurementEvents(i);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            foreach (var t in tags)
            {
                if (t.Key == GatewayMetrics.Sha256Tag && value == 1)
                {
                    seen = (string?)t.Value;
                }
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        return seen;
    }

    private static async Task<string> ReadResponseAsync(NetworkStream stream)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[16384];
        var text = new StringBuilder();
        while (true)
        {
            int n = await stream.ReadAsync(buffer, cts.Token);
            if (n == 0)
            {
                return text.ToString();
            }

            text.Append(Encoding.Latin1.GetString(buffer, 0, n));
            var s = text.ToString();
            int end = s.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                int length = 0;
                foreach (var line in s[..end].Split("\r\n"))
                {
                    if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                    {
                        length = int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
                    }
                }

                if (s.Length >= end + 4 + length)
                {
                    return s;
                }
            }
        }
    }

    /// <summary>Counts <c>egress.policy.reloads</c> by result while alive.</summary>
    private sealed class ReloadCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, long> _counts = [];

        public ReloadCounter()
        {
            _listener.InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Name == GatewayMetrics.MeterName && i.Name == "egress.policy.reloads")
                {
                    l.EnableMeasurementEvents(i);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var t in tags)
                {
                    if (t.Key == GatewayMetrics.ResultTag)
                    {
                        lock (_counts)
                        {
                            _counts[(string)t.Value!] = _counts.GetValueOrDefault((string)t.Value!) + value;
                        }
                    }
                }
            });
            _listener.Start();
        }

        public long Count(string result)
        {
            lock (_counts)
            {
                return _counts.GetValueOrDefault(result);
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}

/// <summary>An in-process gateway: a policy file in a temp folder, its holder, reloader and proxy server.</summary>
internal sealed class Gateway : IAsyncDisposable
{
    private readonly TempDirectory _dir;
    private readonly EgressPolicy _policy;
    private readonly GatewayHost _host;

    private Gateway(TempDirectory dir, EgressPolicy policy, GatewayHost host, EgressProxyServer server, StringWriter log)
    {
        _dir = dir;
        _policy = policy;
        _host = host;
        Server = server;
        Log = log;
    }

    public EgressProxyServer Server { get; }

    public StringWriter Log { get; }

    public PolicyHolder Holder => _host.Policies;

    public PolicyReloader Reloader => _host.Reloader!;

    public string PolicyPath => _dir.File("policy.lock");

    public int Port => Server.LocalEndPoint!.Port;

    public static Task<Gateway> StartAsync(string policyText)
    {
        var dir = new TempDirectory();
        File.WriteAllText(dir.File("policy.lock"), policyText);
        Assert.True(PolicyFile.TryLoad(dir.File("policy.lock"), out Egress.Policy.Roles.RoleFileContent? content, out var sha, out var error), error);
        var log = new StringWriter();
        var policy = EgressPolicy.Create(new EgressOptions { Allowlist = content!.DefaultTexts, LogLevel = 0 }, TextWriter.Null);
        var host = new GatewayHost(policy, dir.File("policy.lock"), sha, TextWriter.Synchronized(log));
        var server = new EgressProxyServer(host.Policies, new ProxyOptions { Listen = new IPEndPoint(IPAddress.Loopback, 0), HealthDetail = host.HealthDetail });
        server.Start();
        return Task.FromResult(new Gateway(dir, policy, host, server, log));
    }

    /// <summary>Reloads now; the watcher may already have done it, so the state is what is checked.</summary>
    public async Task ReloadedAsync()
    {
        string result = await Reloader.ReloadAsync();
        Assert.True(result is "accepted" or "unchanged", result);
        Assert.True(PolicyFile.TryLoad(PolicyPath, out Egress.Policy.Roles.RoleFileContent? _, out var sha, out var error), error);
        Assert.Equal(sha, Holder.Current.Sha256);
    }

    /// <summary>Replaces the policy file atomically (write aside, rename over).</summary>
    public void Write(string text)
    {
        var temp = _dir.File("policy.lock.tmp");
        File.WriteAllText(temp, text);
        File.Move(temp, PolicyPath, overwrite: true);
    }

    public async Task<int> StatusAsync(string url)
    {
        var result = await Curl.RunAsync("-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", $"http://127.0.0.1:{Port}", url);
        return int.Parse(result.StdOut.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async Task<string> RawAsync(string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request));
        return await TestProxy.ReadToEndAsync(stream);
    }

    /// <summary>Opens a CONNECT tunnel and reads the 200.</summary>
    public async Task<OpenTunnel> ConnectAsync(string authority)
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n"));
        var head = new StringBuilder();
        var one = new byte[1];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            Assert.Equal(1, await stream.ReadAsync(one, cts.Token));
            head.Append((char)one[0]);
        }

        Assert.StartsWith("HTTP/1.1 200", head.ToString(), StringComparison.Ordinal);
        return new OpenTunnel(client);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        _host.Dispose();
        _policy.Dispose();
        _dir.Dispose();
    }
}

/// <summary>A client end of a CONNECT tunnel to an <see cref="EchoServer"/>.</summary>
internal sealed class OpenTunnel(TcpClient client) : IDisposable
{
    public NetworkStream Stream => client.GetStream();

    public async Task<string> EchoAsync(string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        await Stream.WriteAsync(bytes);
        var buffer = new byte[bytes.Length];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await Stream.ReadExactlyAsync(buffer, cts.Token);
        return Encoding.ASCII.GetString(buffer);
    }

    public void Dispose() => client.Dispose();
}

/// <summary>A TCP echo server on 127.0.0.1; stops on dispose.</summary>
internal sealed class EchoServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _cts = new();

    public EchoServer()
    {
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private async Task AcceptAsync()
    {
        while (!_cts.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_cts.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = EchoAsync(client);
        }
    }

    private async Task EchoAsync(TcpClient client)
    {
        using var _ = client;
        var buffer = new byte[65536];
        try
        {
            var stream = client.GetStream();
            int n;
            while ((n = await stream.ReadAsync(buffer, _cts.Token)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, n), _cts.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        _cts.Cancel();
        _listener.Stop();
        _cts.Dispose();
    }
}

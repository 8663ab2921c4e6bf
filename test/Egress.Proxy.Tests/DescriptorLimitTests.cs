using System.Net;
using System.Net.Sockets;
using System.Text;
using Egress.Proxy.Tests.Support;

namespace Egress.Proxy.Tests;

/// <summary>
/// The real proxy process under a lowered descriptor limit (<c>prlimit --nofile</c>): a flood of tunnels
/// that are held open must be refused with 503 once the descriptors are spoken for, never time out or be
/// dropped silently, and the process must stay up and recover (issue 14 item 8).
/// </summary>
public sealed class DescriptorLimitTests
{
    private const int Limit = 256;
    private const int Clients = 400;

    [Fact]
    public async Task LowDescriptorLimit_FloodOfHeldTunnels_IsRefusedWith503AndTheProxySurvives()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/prlimit"))
        {
            return;
        }

        using var holder = new HoldingServer();
        using var proxy = await ProxyProcess.StartWithLauncherAsync(["/usr/bin/prlimit", $"--nofile={Limit}:{Limit}"], new Dictionary<string, string?> { ["EGRESS_ALLOWLIST"] = "127.0.0.1" });
        var clients = new List<Socket>();
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            using var gate = new SemaphoreSlim(32);
            var attempts = Enumerable.Range(0, Clients).Select(async _ =>
            {
                await gate.WaitAsync();
                try
                {
                    var (socket, outcome) = await OpenTunnelAsync(proxy.Port, holder.Port);
                    lock (outcomes)
                    {
                        outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
                        if (socket is not null)
                        {
                            clients.Add(socket);
                        }
                    }
                }
                finally
                {
                    gate.Release();
                }
            });
            await Task.WhenAll(attempts);
            var (healthStatus, healthBody) = await HealthAsync(proxy.Port);

            string summary = string.Join(", ", outcomes.Select(kv => $"{kv.Key}: {kv.Value}"));
            Assert.False(proxy.Process.HasExited, "the proxy died under a descriptor flood: " + summary);
            Assert.True(outcomes.Keys.All(k => k is "200" or "503"), "every client must get 200 or 503, got " + summary);
            Assert.True(outcomes.GetValueOrDefault("200") > 0, summary);
            Assert.True(outcomes.GetValueOrDefault("503") > 0, summary);
            Assert.Equal("503", healthStatus);
            Assert.Contains("RLIMIT_NOFILE", healthBody, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var c in clients)
            {
                c.Dispose();
            }

            holder.CloseAll();
        }

        // Once the tunnels are gone the proxy is healthy again and serves a new tunnel.
        string status = "";
        for (int i = 0; i < 100 && status != "200"; i++)
        {
            await Task.Delay(100);
            (status, _) = await HealthAsync(proxy.Port);
        }

        Assert.Equal("200", status);
        var (again, outcomeAgain) = await OpenTunnelAsync(proxy.Port, holder.Port);
        again?.Dispose();
        Assert.Equal("200", outcomeAgain);
        Assert.False(proxy.Process.HasExited);
    }

    /// <summary>CONNECT through the proxy; the outcome is the status code, or what went wrong instead.</summary>
    private static async Task<(Socket? Socket, string Outcome)> OpenTunnelAsync(int proxyPort, int targetPort)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, proxyPort), cts.Token);
            await s.SendAsync(Encoding.ASCII.GetBytes($"CONNECT 127.0.0.1:{targetPort} HTTP/1.1\r\nHost: 127.0.0.1:{targetPort}\r\n\r\n"), SocketFlags.None, cts.Token);
            string head = await ReadHeadAsync(s, cts.Token);
            string outcome = head.Length >= 12 && head.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) ? head[9..12] : "closed without a response";
            if (outcome == "200")
            {
                return (s, outcome);
            }

            s.Dispose();
            return (null, outcome);
        }
        catch (OperationCanceledException)
        {
            s.Dispose();
            return (null, "timed out");
        }
        catch (SocketException ex)
        {
            s.Dispose();
            return (null, ex.SocketErrorCode.ToString());
        }
    }

    private static async Task<(string Status, string Body)> HealthAsync(int proxyPort)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, proxyPort), cts.Token);
            await s.SendAsync("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8.ToArray(), SocketFlags.None, cts.Token);
            var all = new MemoryStream();
            var buffer = new byte[4096];
            int n;
            while ((n = await s.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
            {
                all.Write(buffer, 0, n);
            }

            string text = Encoding.ASCII.GetString(all.ToArray());
            return (text.Length >= 12 ? text[9..12] : "closed without a response", text);
        }
        catch (OperationCanceledException)
        {
            return ("timed out", "");
        }
        catch (SocketException ex)
        {
            return (ex.SocketErrorCode.ToString(), "");
        }
    }

    private static async Task<string> ReadHeadAsync(Socket s, CancellationToken ct)
    {
        var buffer = new byte[4096];
        int filled = 0;
        while (filled < buffer.Length)
        {
            int n = await s.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, ct);
            if (n == 0)
            {
                break;
            }

            filled += n;
            if (buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8) >= 0)
            {
                break;
            }
        }

        return Encoding.ASCII.GetString(buffer, 0, filled);
    }

    /// <summary>A loopback destination that accepts connections and holds them open without reading.</summary>
    private sealed class HoldingServer : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly List<Socket> _held = [];
        private readonly CancellationTokenSource _cts = new(TimeSpan.FromMinutes(2));

        public HoldingServer()
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(1024);
            _ = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

        public void CloseAll()
        {
            lock (_held)
            {
                foreach (var s in _held)
                {
                    s.Dispose();
                }

                _held.Clear();
            }
        }

        public void Dispose()
        {
            _cts.Cancel();
            _listener.Dispose();
            CloseAll();
            _cts.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!_cts.IsCancellationRequested)
            {
                try
                {
                    var s = await _listener.AcceptAsync(_cts.Token);
                    lock (_held)
                    {
                        _held.Add(s);
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }
            }
        }
    }
}

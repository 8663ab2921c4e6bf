using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Egress.Proxy.Tests.Support;

namespace Egress.Proxy.Tests;

/// <summary>The real <c>egress-policy proxy</c> process and its signals, with a real open tunnel.</summary>
public sealed class ProxySignalTests
{
    private static readonly Dictionary<string, string?> Allow = new() { ["EGRESS_ALLOWLIST"] = "127.0.0.1" };

    [Fact]
    public async Task Sigterm_StopsAccepting_LetsTheOpenTunnelFinish_AndExitsZero()
    {
        using var echo = new EchoServer();
        using var proxy = await ProxyProcess.StartAsync(Allow);
        using var tunnel = await OpenTunnelAsync(proxy.Port, echo.Port);
        Assert.Equal("before", await EchoAsync(tunnel, "before"));

        Assert.True(ChildSignals.Send(proxy.Process.Id, PosixSignal.SIGTERM));
        await WaitUntilRefusedAsync(proxy.Port);

        // The listener is closed, yet the tunnel opened before the signal still carries traffic.
        Assert.Equal("during", await EchoAsync(tunnel, "during"));
        tunnel.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await proxy.Process.WaitForExitAsync(cts.Token);

        Assert.Equal(0, proxy.Process.ExitCode);
    }

    [Fact]
    public async Task Sigterm_CutsATunnelStillOpenAfterTheGrace_AndExitsZero()
    {
        using var echo = new EchoServer();
        using var proxy = await ProxyProcess.StartAsync(Allow);
        using var tunnel = await OpenTunnelAsync(proxy.Port, echo.Port);
        Assert.Equal("before", await EchoAsync(tunnel, "before"));

        Assert.True(ChildSignals.Send(proxy.Process.Id, PosixSignal.SIGTERM));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int n = await tunnel.GetStream().ReadAsync(new byte[16], cts.Token);
        await proxy.Process.WaitForExitAsync(cts.Token);

        Assert.Equal(0, n);
        Assert.Equal(0, proxy.Process.ExitCode);
    }

    [Fact]
    public async Task Sighup_IsIgnored_TheProxyKeepsServing()
    {
        using var echo = new EchoServer();
        using var proxy = await ProxyProcess.StartAsync(Allow);
        using var tunnel = await OpenTunnelAsync(proxy.Port, echo.Port);

        Assert.True(ChildSignals.Send(proxy.Process.Id, PosixSignal.SIGHUP));
        Assert.Equal("after-hup", await EchoAsync(tunnel, "after-hup"));
        using var second = await OpenTunnelAsync(proxy.Port, echo.Port);

        Assert.Equal("new", await EchoAsync(second, "new"));
        Assert.False(proxy.Process.HasExited);
    }

    private static async Task<TcpClient> OpenTunnelAsync(int proxyPort, int targetPort)
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, proxyPort);
        await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"CONNECT 127.0.0.1:{targetPort} HTTP/1.1\r\n\r\n"));
        string head = await ReadAsync(client, "HTTP/1.1 200 Connection Established\r\n\r\n".Length);
        Assert.Equal("HTTP/1.1 200 Connection Established\r\n\r\n", head);
        return client;
    }

    private static async Task<string> EchoAsync(TcpClient tunnel, string text)
    {
        await tunnel.GetStream().WriteAsync(Encoding.ASCII.GetBytes(text));
        return await ReadAsync(tunnel, text.Length);
    }

    private static async Task<string> ReadAsync(TcpClient client, int length)
    {
        var buffer = new byte[length];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await client.GetStream().ReadExactlyAsync(buffer, cts.Token);
        return Encoding.ASCII.GetString(buffer);
    }

    private static async Task WaitUntilRefusedAsync(int port)
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            using var probe = new TcpClient();
            try
            {
                await probe.ConnectAsync(IPAddress.Loopback, port);
            }
            catch (SocketException)
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail("the proxy still accepts connections after SIGTERM");
    }

    /// <summary>Echoes every byte back, on 127.0.0.1; stops on dispose.</summary>
    private sealed class EchoServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _cts = new(TimeSpan.FromSeconds(60));

        public EchoServer()
        {
            _listener.Start();
            _ = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public void Dispose()
        {
            _cts.Cancel();
            _listener.Stop();
            _cts.Dispose();
        }

        private async Task AcceptAsync()
        {
            try
            {
                for (int i = 0; i < 16; i++)
                {
                    var client = await _listener.AcceptTcpClientAsync(_cts.Token);
                    _ = EchoAsync(client);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }

        private async Task EchoAsync(TcpClient client)
        {
            using (client)
            {
                try
                {
                    var buffer = new byte[4096];
                    int n;
                    while ((n = await client.GetStream().ReadAsync(buffer, _cts.Token)) > 0)
                    {
                        await client.GetStream().WriteAsync(buffer.AsMemory(0, n), _cts.Token);
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
                {
                    // Stopped or cut.
                }
            }
        }
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Egress.Proxy.Tests.Support;

/// <summary>
/// An origin on 127.0.0.1 that answers each connection's first request head with fixed bytes, then records
/// whatever else it receives until the peer closes (bounded: 30 s, 64 KiB, 16 connections). Stops on dispose.
/// </summary>
internal sealed class ScriptedOrigin : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _cts = new(TimeSpan.FromSeconds(30));
    private readonly byte[] _response;
    private readonly TaskCompletionSource<string> _received = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ScriptedOrigin(string response)
    {
        _response = Encoding.Latin1.GetBytes(response);
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Everything the first connection sent (request head included), once it closed.</summary>
    public Task<string> Received => _received.Task;

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
                _ = ServeAsync(client, first: i == 0);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            _received.TrySetResult(string.Empty);
        }
    }

    private async Task ServeAsync(TcpClient client, bool first)
    {
        var all = new MemoryStream();
        try
        {
            using var owned = client;
            var stream = client.GetStream();
            var buffer = new byte[8192];
            bool answered = false;
            int n;
            while (all.Length < 64 * 1024 && (n = await stream.ReadAsync(buffer, _cts.Token)) > 0)
            {
                all.Write(buffer, 0, n);
                if (!answered && all.ToArray().AsSpan().IndexOf("\r\n\r\n"u8) >= 0)
                {
                    answered = true;
                    await stream.WriteAsync(_response, _cts.Token);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // Bounded or cut: what was received stands.
        }

        if (first)
        {
            _received.TrySetResult(Encoding.Latin1.GetString(all.ToArray()));
        }
    }
}

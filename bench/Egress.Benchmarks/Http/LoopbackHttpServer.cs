using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Egress.Benchmarks.Http;

/// <summary>
/// A keep-alive HTTP/1.1 server on 127.0.0.1 port 0 that answers each request head with a fixed 200,
/// so the measured time is the client's. Stops on dispose.
/// </summary>
internal sealed class LoopbackHttpServer : IDisposable
{
    private static readonly byte[] Response = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();

    public LoopbackHttpServer()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptLoopAsync();
    }

    public int Port { get; }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                client.NoDelay = true;
                _ = ServeAsync(client);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var buffer = new byte[16384];
            int matched = 0; // progress through "\r\n\r\n"
            try
            {
                while (true)
                {
                    int read = await stream.ReadAsync(buffer, _stop.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    int heads = 0;
                    for (int i = 0; i < read; i++)
                    {
                        byte b = buffer[i];
                        matched = b == (matched % 2 == 0 ? (byte)'\r' : (byte)'\n') ? matched + 1 : (b == '\r' ? 1 : 0);
                        if (matched == 4)
                        {
                            heads++;
                            matched = 0;
                        }
                    }

                    for (int i = 0; i < heads; i++)
                    {
                        await stream.WriteAsync(Response, _stop.Token);
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
            }
        }
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Egress.Proxy.Tests.Support;

/// <summary>
/// A tiny HTTP/1.1 origin on 127.0.0.1 for tests: answers every request with its method, path and Host,
/// keeps connections alive, sends <c>/chunked</c> chunked and echoes request bodies. Stops on dispose.
/// </summary>
internal sealed class MiniHttpServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _cts = new();
    private int _connections;

    public MiniHttpServer()
    {
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Connections => Volatile.Read(ref _connections);

    public void Dispose()
    {
        _cts.Cancel();
        _listener.Stop();
        _cts.Dispose();
    }

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

            Interlocked.Increment(ref _connections);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var reader = new StreamReader(stream, Encoding.Latin1);
                for (int requests = 0; requests < 1000; requests++)
                {
                    string? requestLine = await reader.ReadLineAsync(_cts.Token);
                    if (string.IsNullOrEmpty(requestLine))
                    {
                        return;
                    }

                    var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                    string? line;
                    while (!string.IsNullOrEmpty(line = await reader.ReadLineAsync(_cts.Token)))
                    {
                        int colon = line.IndexOf(':', StringComparison.Ordinal);
                        headers[line[..colon]] = line[(colon + 1)..].Trim();
                    }

                    var parts = requestLine.Split(' ');
                    string body = string.Empty;
                    if (headers.TryGetValue("Content-Length", out var cl) && int.Parse(cl, System.Globalization.CultureInfo.InvariantCulture) is > 0 and var n)
                    {
                        var buffer = new char[n];
                        await reader.ReadBlockAsync(buffer, _cts.Token);
                        body = new string(buffer);
                    }

                    string text = $"{parts[0]} {parts[1]} host={headers.GetValueOrDefault("Host")} proxy-connection={headers.ContainsKey("Proxy-Connection")} body={body}";
                    string response = parts[1] == "/chunked"
                        ? $"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{text.Length:x}\r\n{text}\r\n5\r\n-tail\r\n0\r\n\r\n"
                        : $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {Encoding.Latin1.GetByteCount(text)}\r\n\r\n{text}";
                    await stream.WriteAsync(Encoding.Latin1.GetBytes(response), _cts.Token);
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
            {
                // Client went away or the server stopped.
            }
        }
    }
}

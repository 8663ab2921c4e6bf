using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Egress.Http.Tests;

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 port 0 that counts accepted connections. It answers every
/// request with <see cref="Respond"/>'s text, stops on dispose and after a bounded lifetime.
/// </summary>
internal sealed class LoopbackServer : IDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromSeconds(120));
    private int _connections;
    private int _requests;

    public LoopbackServer(Func<string, string>? respond = null, IPAddress? address = null)
    {
        Address = address ?? IPAddress.Loopback;
        _listener = new TcpListener(Address, 0);
        Respond = respond ?? (_ => Ok("ok"));
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptLoopAsync();
    }

    public int Port { get; }

    /// <summary>The loopback address listened on (127.0.0.1 unless given another one in 127.0.0.0/8).</summary>
    public IPAddress Address { get; }

    /// <summary>Maps the request head to the full response text.</summary>
    public Func<string, string> Respond { get; set; }

    public int Connections => Volatile.Read(ref _connections);

    public int Requests => Volatile.Read(ref _requests);

    public string Url(string path = "/") => $"http://{Address}:{Port}{path}";

    public static string Ok(string body) => $"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n{body}";

    public static string Redirect(string location) => $"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n";

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
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _connections);
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
            try
            {
                var stream = client.GetStream();
                var buffer = new byte[8192];
                var head = new StringBuilder();
                while (!_stop.IsCancellationRequested)
                {
                    int read = await stream.ReadAsync(buffer, _stop.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    head.Append(Encoding.ASCII.GetString(buffer, 0, read));
                    int end;
                    while ((end = head.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal)) >= 0)
                    {
                        string request = head.ToString(0, end);
                        head.Remove(0, end + 4);
                        Interlocked.Increment(ref _requests);
                        await stream.WriteAsync(Encoding.ASCII.GetBytes(Respond(request)), _stop.Token);
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
            {
            }
        }
    }
}

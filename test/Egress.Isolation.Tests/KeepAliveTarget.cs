using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Egress.Isolation.Tests;

/// <summary>
/// A loopback HTTP/1.1 target (outside any namespace) that keeps connections alive: it answers every request
/// head with <c>200</c> and a body naming the Host it saw, and counts connections and requests (with their Host
/// values). Bodies are not expected (GET only). A connection that stays silent is kept open until the client,
/// the forwarder's idle timeout or <see cref="Dispose"/> ends it (at most 60 s). Stops on dispose.
/// </summary>
internal sealed class KeepAliveTarget : LoopbackTarget
{
    private readonly List<string> _hosts = [];

    /// <summary>The Host header of every request that arrived, in order.</summary>
    public IReadOnlyList<string> Hosts
    {
        get
        {
            lock (_hosts)
            {
                return [.. _hosts];
            }
        }
    }

    protected override async Task ServeAsync(TcpClient client)
    {
        using (client)
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(Stop.Token))
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(60));
            try
            {
                var stream = client.GetStream();
                var pending = new StringBuilder();
                var buffer = new byte[8192];
                while (true)
                {
                    int end;
                    while ((end = pending.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal)) < 0)
                    {
                        int n = await stream.ReadAsync(buffer, timeout.Token);
                        if (n == 0 || pending.Length > 65536)
                        {
                            return;
                        }

                        pending.Append(Encoding.ASCII.GetString(buffer, 0, n));
                    }

                    string head = pending.ToString(0, end);
                    pending.Remove(0, end + 4);
                    string host = head.Split("\r\n").Skip(1).FirstOrDefault(l => l.StartsWith("Host:", StringComparison.OrdinalIgnoreCase))?[5..].Trim() ?? string.Empty;
                    lock (_hosts)
                    {
                        _hosts.Add(host);
                    }

                    string body = "host=" + host;
                    await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n{body}"), timeout.Token);
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
            {
                // The client went away, or the test ended.
            }
        }
    }
}

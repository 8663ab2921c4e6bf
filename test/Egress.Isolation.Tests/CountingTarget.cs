using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Egress.Isolation.Tests;

/// <summary>
/// A loopback TCP target (outside any namespace) that counts the connections that reach it and answers each
/// with one HTTP 200 (<c>Connection: close</c>) once it has read a head, or "ok" to anything else. Stops on
/// dispose; every connection is served for at most five seconds.
/// </summary>
internal sealed class CountingTarget(IPAddress? address = null) : LoopbackTarget(address)
{
    protected override async Task ServeAsync(TcpClient client)
    {
        using (client)
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
        {
            try
            {
                var stream = client.GetStream();
                var buffer = new byte[8192];
                int length = 0;
                while (length < buffer.Length)
                {
                    int n = await stream.ReadAsync(buffer.AsMemory(length), timeout.Token);
                    if (n == 0)
                    {
                        return;
                    }

                    length += n;
                    var text = Encoding.ASCII.GetString(buffer, 0, length);
                    if (text.Contains("\r\n\r\n", StringComparison.Ordinal))
                    {
                        await stream.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\ncounted"u8.ToArray(), timeout.Token);
                        return;
                    }

                    if (!text.StartsWith("GET", StringComparison.Ordinal) && !text.StartsWith("HEAD", StringComparison.Ordinal))
                    {
                        await stream.WriteAsync("ok\n"u8.ToArray(), timeout.Token);
                        return;
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
            {
                // The client went away or was too slow.
            }
        }
    }
}

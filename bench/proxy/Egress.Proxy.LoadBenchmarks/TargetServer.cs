using System.Net;
using System.Net.Sockets;

namespace Egress.Proxy.LoadBenchmarks;

/// <summary>A minimal HTTP/1.1 keep-alive target answering "hello", plus a bulk source ("BULK n\n" → n zero bytes).</summary>
internal static class TargetServer
{
    // One read-only block shared by every bulk connection, so thousands of stalled bulk streams cost the target nothing.
    private static readonly byte[] Block = new byte[256 * 1024];

    private static readonly byte[] Response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"u8.ToArray();

    public static async Task RunAsync(int port, int bulkPort, TimeSpan maxLifetime)
    {
        using var cts = new CancellationTokenSource(maxLifetime);
        var http = Listen(port);
        var bulk = Listen(bulkPort);
        Console.WriteLine($"target http 127.0.0.1:{((IPEndPoint)http.LocalEndPoint!).Port} bulk 127.0.0.1:{((IPEndPoint)bulk.LocalEndPoint!).Port}");
        await Task.WhenAll(AcceptAsync(http, ServeHttpAsync, cts.Token), AcceptAsync(bulk, ServeBulkAsync, cts.Token));
    }

    private static Socket Listen(int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, port));
        s.Listen(8192);
        return s;
    }

    private static async Task AcceptAsync(Socket listener, Func<Socket, CancellationToken, Task> serve, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket s;
            try
            {
                s = await listener.AcceptAsync(ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            s.NoDelay = true;
            _ = serve(s, ct);
        }
    }

    private static async Task ServeHttpAsync(Socket s, CancellationToken ct)
    {
        using (s)
        {
            var buffer = new byte[8192];
            int filled = 0;
            try
            {
                while (true)
                {
                    int n = await s.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, ct);
                    if (n == 0)
                    {
                        return;
                    }

                    filled += n;
                    int end;
                    while ((end = buffer.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) >= 0)
                    {
                        await s.SendAsync(Response, SocketFlags.None, ct);
                        int consumed = end + 4;
                        Buffer.BlockCopy(buffer, consumed, buffer, 0, filled - consumed);
                        filled -= consumed;
                    }

                    if (filled == buffer.Length)
                    {
                        return;
                    }
                }
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
            }
        }
    }

    private static async Task ServeBulkAsync(Socket s, CancellationToken ct)
    {
        using (s)
        {
            try
            {
                var line = new byte[64];
                int n = await s.ReceiveAsync(line, SocketFlags.None, ct);
                var text = System.Text.Encoding.ASCII.GetString(line, 0, n).Trim();
                long remaining = long.Parse(text.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture);
                while (remaining > 0)
                {
                    int chunk = (int)Math.Min(Block.Length, remaining);
                    await s.SendAsync(Block.AsMemory(0, chunk), SocketFlags.None, ct);
                    remaining -= chunk;
                }

                s.Shutdown(SocketShutdown.Send);
                await s.ReceiveAsync(line, SocketFlags.None, ct);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or FormatException)
            {
            }
        }
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Egress.Telemetry.Prometheus;

/// <summary>
/// A minimal HTTP/1.1 server for <c>GET /metrics</c> (and <c>HEAD</c>), on a <see cref="TcpListener"/> so that
/// it works under Native AOT, binds to any address and supports port 0. One response per connection.
/// </summary>
public sealed class PrometheusHttpServer : IDisposable
{
    private const int MaxRequestBytes = 16 * 1024;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly MetricsCollector _collector;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _acceptLoop;

    /// <summary>Binds and starts serving. Throws <see cref="SocketException"/> when the address cannot be bound.</summary>
    /// <param name="collector">Where the exposition comes from.</param>
    /// <param name="address">Address to bind (loopback by default in <see cref="EgressTelemetryOptions"/>).</param>
    /// <param name="port">Port; 0 picks a free one (see <see cref="Endpoint"/>).</param>
    public PrometheusHttpServer(MetricsCollector collector, IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(collector);
        ArgumentNullException.ThrowIfNull(address);
        _collector = collector;
        _listener = new TcpListener(address, port);
        _listener.Start();
        Endpoint = (IPEndPoint)_listener.LocalEndpoint;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The bound address and port.</summary>
    public IPEndPoint Endpoint { get; }

    /// <summary>The URL of the metrics endpoint.</summary>
    public Uri MetricsUri => new($"http://{(Endpoint.Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Endpoint.Address}]" : Endpoint.Address.ToString())}:{Endpoint.Port}/metrics");

    /// <inheritdoc />
    public void Dispose()
    {
        _stopping.Cancel();
        _listener.Stop();
        try
        {
            _acceptLoop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _stopping.Dispose();
    }

    private static async Task<string?> ReadRequestLineAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxRequestBytes];
        int length = 0;
        while (length < buffer.Length)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            length += read;
            var text = Encoding.ASCII.GetString(buffer, 0, length);
            int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end < 0)
            {
                end = text.IndexOf("\n\n", StringComparison.Ordinal);
            }

            if (end >= 0)
            {
                int lineEnd = text.IndexOf('\n', StringComparison.Ordinal);
                return text[..lineEnd].TrimEnd('\r');
            }
        }

        return null;
    }

    private static async Task RespondAsync(NetworkStream stream, int status, string reason, string contentType, byte[] body, bool includeBody, CancellationToken cancellationToken)
    {
        var head = $"HTTP/1.1 {status} {reason}\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken).ConfigureAwait(false);
        if (includeBody)
        {
            await stream.WriteAsync(body, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
        {
            timeout.CancelAfter(RequestTimeout);
            try
            {
                var stream = client.GetStream();
                var line = await ReadRequestLineAsync(stream, timeout.Token).ConfigureAwait(false);
                var parts = line?.Split(' ') ?? [];
                if (parts.Length != 3 || !parts[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
                {
                    await RespondAsync(stream, 400, "Bad Request", "text/plain", "bad request\n"u8.ToArray(), true, timeout.Token).ConfigureAwait(false);
                    return;
                }

                string path = parts[1].Split('?')[0];
                bool head = parts[0] == "HEAD";
                if (parts[0] != "GET" && !head)
                {
                    await RespondAsync(stream, 405, "Method Not Allowed", "text/plain", "only GET /metrics\n"u8.ToArray(), true, timeout.Token).ConfigureAwait(false);
                    return;
                }

                if (path != "/metrics")
                {
                    await RespondAsync(stream, 404, "Not Found", "text/plain", "metrics are at /metrics\n"u8.ToArray(), !head, timeout.Token).ConfigureAwait(false);
                    return;
                }

                var body = Encoding.UTF8.GetBytes(_collector.Collect());
                await RespondAsync(stream, 200, "OK", PrometheusTextWriter.ContentType, body, !head, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The scraper went away or was too slow; nothing to report.
            }
        }
    }
}

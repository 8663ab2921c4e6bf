using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Egress.Policy;
using Egress.Policy.Configuration;

namespace Egress.Proxy.Tests.Support;

/// <summary>An in-process proxy on 127.0.0.1 port 0 with a given allowlist; stops on dispose.</summary>
internal sealed class TestProxy : IAsyncDisposable
{
    private TestProxy(EgressProxyServer server, EgressPolicy policy, StringWriter log)
    {
        Server = server;
        Policy = policy;
        Log = log;
    }

    public EgressProxyServer Server { get; }

    public EgressPolicy Policy { get; }

    public StringWriter Log { get; }

    public int Port => Server.LocalEndPoint!.Port;

    public string Url => $"http://127.0.0.1:{Port}";

    public static TestProxy Start(string allowlist, ProxyOptions? options = null, bool enforce = true)
    {
        var log = new StringWriter();
        var policy = EgressPolicy.Create(new EgressOptions
        {
            Allowlist = [.. allowlist.Split(',', StringSplitOptions.RemoveEmptyEntries)],
            Enforce = enforce,
            LogLevel = 2,
        }, TextWriter.Synchronized(log));
        var server = new EgressProxyServer(policy, (options ?? new ProxyOptions()) with { Listen = new IPEndPoint(IPAddress.Loopback, 0) });
        server.Start();
        return new TestProxy(server, policy, log);
    }

    /// <summary>Sends raw bytes and reads until the proxy closes the connection (bounded by 15 s).</summary>
    public async Task<string> SendRawAsync(string request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request));
        return await ReadToEndAsync(stream);
    }

    public static async Task<string> ReadToEndAsync(NetworkStream stream)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var result = new MemoryStream();
        var buffer = new byte[8192];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, cts.Token)) > 0)
            {
                result.Write(buffer, 0, n);
            }
        }
        catch (IOException)
        {
            // Reset after the response: what was read stands.
        }

        return Encoding.Latin1.GetString(result.ToArray());
    }

    public ImmutableArray<Policy.Events.EgressEvent> ProxyEvents()
        => [.. Policy.Events.RecentEvents().Where(e => e.Source == "proxy")];

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Policy.Dispose();
    }
}

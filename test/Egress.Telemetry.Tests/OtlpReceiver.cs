using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Egress.Telemetry.Tests;

/// <summary>
/// A loopback OTLP receiver on Kestrel, port 0: OTLP/HTTP (<c>POST /v1/metrics</c>, HTTP/1.1) or OTLP/gRPC
/// (<c>MetricsService/Export</c> over cleartext HTTP/2). Received requests are queued as protobuf bytes.
/// </summary>
internal sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<byte[]> _requests = Channel.CreateUnbounded<byte[]>();

    private OtlpReceiver(bool grpc)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = grpc ? HttpProtocols.Http2 : HttpProtocols.Http1));
        _app = builder.Build();
        _app.MapPost("/v1/metrics", async (HttpContext ctx) =>
        {
            _requests.Writer.TryWrite(await ReadBodyAsync(ctx));
            ctx.Response.ContentType = "application/x-protobuf";
        });
        _app.MapPost("/opentelemetry.proto.collector.metrics.v1.MetricsService/Export", async (HttpContext ctx) =>
        {
            var framed = await ReadBodyAsync(ctx);
            int length = (framed[1] << 24) | (framed[2] << 16) | (framed[3] << 8) | framed[4];
            _requests.Writer.TryWrite(framed.AsSpan(5, length).ToArray());
            ctx.Response.ContentType = "application/grpc";
            await ctx.Response.Body.WriteAsync(new byte[5]);
            ctx.Response.AppendTrailer("grpc-status", "0");
        });
    }

    public Uri BaseUri { get; private set; } = null!;

    public static async Task<OtlpReceiver> StartAsync(bool grpc)
    {
        var receiver = new OtlpReceiver(grpc);
        await receiver._app.StartAsync();
        var address = receiver._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.BaseUri = new Uri(address);
        return receiver;
    }

    /// <summary>Waits (bounded) for an export whose decoded content satisfies <paramref name="match"/>.</summary>
    public async Task<OtlpExport?> WaitForAsync(Func<OtlpExport, bool> match, TimeSpan limit)
    {
        using var cts = new CancellationTokenSource(limit);
        try
        {
            while (true)
            {
                var export = OtlpDecoder.Decode(await _requests.Reader.ReadAsync(cts.Token));
                if (match(export))
                {
                    return export;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext ctx)
    {
        using var buffer = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(buffer);
        return buffer.ToArray();
    }
}

using BenchmarkDotNet.Attributes;
using Egress.Http;
using Egress.Policy;

namespace Egress.Benchmarks.Http;

/// <summary>
/// One loopback GET (keep-alive, 2-byte body) with a plain client against the same client under each guard:
/// the request-URI handler, the connect-time guard (per connection, so per request it costs nothing once
/// the connection is pooled), both (what <c>AddEgressPolicy()</c> installs), and the process-wide
/// <see cref="EgressGuard"/>. Each benchmark runs in its own process, so the guard is installed only for its own.
/// </summary>
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet releases the fields in [GlobalCleanup].")]
public class HttpGuardBenchmarks
{
    private LoopbackHttpServer _server = null!;
    private EgressPolicy _policy = null!;
    private HttpClient _plain = null!;
    private HttpClient _handler = null!;
    private HttpClient _connect = null!;
    private HttpClient _handlerAndConnect = null!;
    private IDisposable? _guard;
    private Uri _uri = null!;

    [GlobalSetup]
    public void Setup()
    {
        _server = new LoopbackHttpServer();
        _uri = new Uri($"http://127.0.0.1:{_server.Port}/");
        _policy = BenchPolicies.LoopbackOnly();
        _plain = new HttpClient(new SocketsHttpHandler());
        _handler = new HttpClient(new EgressPolicyHandler(new SocketsHttpHandler(), _policy));
        _connect = new HttpClient(EgressConnectCallback.Apply(new SocketsHttpHandler(), _policy));
        _handlerAndConnect = new HttpClient(new EgressPolicyHandler(EgressConnectCallback.Apply(new SocketsHttpHandler(), _policy), _policy));
    }

    [GlobalSetup(Target = nameof(ProcessGuard))]
    public void SetupGuard()
    {
        Setup();
        _guard = EgressGuard.Install(_policy);
    }

    [GlobalSetup(Target = nameof(PlainWithMetricsListener))]
    public void SetupListener()
    {
        Setup();

        // What any listener on http.client.active_requests costs (OpenTelemetry's HTTP metrics pay it too).
        var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "System.Net.Http" && instrument.Name == "http.client.active_requests")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>(static (_, _, _, _) => { });
        listener.Start();
        _guard = listener;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _guard?.Dispose();
        _plain.Dispose();
        _handler.Dispose();
        _connect.Dispose();
        _handlerAndConnect.Dispose();
        _policy.Dispose();
        _server.Dispose();
    }

    [Benchmark(Baseline = true)]
    public Task<byte[]> Plain() => GetAsync(_plain);

    [Benchmark]
    public Task<byte[]> PolicyHandler() => GetAsync(_handler);

    [Benchmark]
    public Task<byte[]> ConnectCallback() => GetAsync(_connect);

    [Benchmark]
    public Task<byte[]> PolicyHandlerAndConnectCallback() => GetAsync(_handlerAndConnect);

    [Benchmark]
    public Task<byte[]> PlainWithMetricsListener() => GetAsync(_plain);

    [Benchmark]
    public Task<byte[]> ProcessGuard() => GetAsync(_plain);

    private async Task<byte[]> GetAsync(HttpClient client)
    {
        using var response = await client.GetAsync(_uri).ConfigureAwait(false);
        return await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
    }
}

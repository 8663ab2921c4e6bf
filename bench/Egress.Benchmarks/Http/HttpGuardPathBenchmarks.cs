using System.Net;
using BenchmarkDotNet.Attributes;
using Egress.Http;
using Egress.Http.Guard;
using Egress.Policy;

namespace Egress.Benchmarks.Http;

/// <summary>
/// The per-request work of each guard without the network, so that it can be measured on a loaded machine:
/// an in-memory handler with and without <see cref="EgressPolicyHandler"/>, and the process guard's check of
/// one hop (parse host and port, decide, record the event). Compare with a loopback GET in
/// <see cref="HttpGuardBenchmarks"/>.
/// </summary>
[MemoryDiagnoser]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "BenchmarkDotNet releases the fields in [GlobalCleanup].")]
public class HttpGuardPathBenchmarks
{
    private static readonly Uri Target = new("http://127.0.0.1:8080/");
    private EgressPolicy _policy = null!;
    private HttpMessageInvoker _stub = null!;
    private HttpMessageInvoker _guarded = null!;
    private MetricsHook _hook = null!;

    [GlobalSetup]
    public void Setup()
    {
        _policy = BenchPolicies.LoopbackOnly();
        _stub = new HttpMessageInvoker(new StubHandler());
        _guarded = new HttpMessageInvoker(new EgressPolicyHandler(new StubHandler(), _policy));
        _hook = new MetricsHook(_policy);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _hook.Dispose();
        _stub.Dispose();
        _guarded.Dispose();
        _policy.Dispose();
    }

    [Benchmark(Baseline = true)]
    public async Task<HttpStatusCode> InMemoryRequest()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Target);
        using var response = await _stub.SendAsync(request, CancellationToken.None).ConfigureAwait(false);
        return response.StatusCode;
    }

    [Benchmark]
    public async Task<HttpStatusCode> InMemoryRequestWithPolicyHandler()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Target);
        using var response = await _guarded.SendAsync(request, CancellationToken.None).ConfigureAwait(false);
        return response.StatusCode;
    }

    /// <summary>The first half of a hop: the name the request carries is decided (the event waits for the connection).</summary>
    [Benchmark]
    public void ProcessGuardHopCheck() => _hook.Enforce("http", "127.0.0.1", 8080);

    /// <summary>
    /// A whole hop as the guard sees it since it decides the dialled authority (issue 14.1): the request's name
    /// at its start, then the connection it takes (authority, name and peer address decided through one
    /// <c>ConnectionDecision</c>) and its one event recorded.
    /// </summary>
    [Benchmark]
    public void ProcessGuardWholeHop()
    {
        _hook.Enforce("http", "127.0.0.1", 8080);
        _hook.EnforceConnection("http", "127.0.0.1", 8080, "127.0.0.1");
    }

    [Benchmark]
    public EgressDecision DecisionOnly() => _policy.Decide("http://127.0.0.1:8080/");

    private sealed class StubHandler : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await Task.Yield();
            return new HttpResponseMessage(HttpStatusCode.OK);
        }
    }
}

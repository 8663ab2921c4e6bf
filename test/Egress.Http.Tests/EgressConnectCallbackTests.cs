using System.Net;

namespace Egress.Http.Tests;

public sealed class EgressConnectCallbackTests
{
    [Fact]
    public async Task WithoutHandler_DenialArrivesAsInnerException_AndNoConnection()
    {
        using var server = new LoopbackServer();
        using var policy = TestPolicies.Create("example.com");
        using var client = new HttpClient(EgressConnectCallback.Apply(new SocketsHttpHandler(), policy));

        var ex = await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetAsync(server.Url()));

        Assert.IsType<EgressDeniedException>(ex as EgressDeniedException ?? ex.InnerException);
        Assert.Equal(0, server.Connections);
    }

    [Fact]
    public async Task HostHeaderNamingADeniedHost_IsDenied_AtTheConnectionAndInTheHandler()
    {
        using var server = new LoopbackServer();
        using var policy = TestPolicies.Create("127.0.0.1");
        using var guarded = new HttpClient(EgressConnectCallback.Apply(new SocketsHttpHandler(), policy));
        using var handled = new HttpClient(new EgressPolicyHandler(new SocketsHttpHandler(), policy));

        // SocketsHttpHandler sends the Host header as Host and, over TLS, as the SNI name: the allowed address
        // must not carry a request for a denied virtual host (domain fronting).
        using var fronted1 = new HttpRequestMessage(HttpMethod.Get, server.Url()) { Headers = { Host = "denied.example" } };
        using var fronted2 = new HttpRequestMessage(HttpMethod.Get, server.Url()) { Headers = { Host = "denied.example" } };
        var ex = await Assert.ThrowsAnyAsync<HttpRequestException>(() => guarded.SendAsync(fronted1));
        await Assert.ThrowsAsync<EgressDeniedException>(() => handled.SendAsync(fronted2));

        Assert.IsType<EgressDeniedException>(ex as EgressDeniedException ?? ex.InnerException);
        Assert.Equal(0, server.Connections);
        using var same = new HttpRequestMessage(HttpMethod.Get, server.Url()) { Headers = { Host = $"127.0.0.1:{server.Port}" } };
        using var response = await handled.SendAsync(same);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ThroughProxy_ChecksTheRequestUri_NotTheProxy()
    {
        using var proxy = new LoopbackServer();
        using var policy = TestPolicies.Create("allowed.example");
        var handler = EgressConnectCallback.Apply(new SocketsHttpHandler { Proxy = new WebProxy(proxy.Url()), UseProxy = true }, policy);
        using var client = new HttpClient(handler);

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetAsync("http://denied.example/"));
        Assert.Equal(0, proxy.Connections);

        using var response = await client.GetAsync("http://allowed.example/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, proxy.Connections);
    }

    [Fact]
    public void Apply_Twice_WrapsOnce()
    {
        using var policy = TestPolicies.Create("example.com");
        var handler = EgressConnectCallback.Apply(new SocketsHttpHandler(), policy);
        var first = handler.ConnectCallback;

        EgressConnectCallback.Apply(handler, policy);

        Assert.Same(first, handler.ConnectCallback);
    }

    [Fact]
    public async Task ExistingCallback_RunsAfterTheHostCheck()
    {
        using var server = new LoopbackServer();
        using var policy = TestPolicies.Create("example.com");
        int calls = 0;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = (_, _) =>
            {
                Interlocked.Increment(ref calls);
                throw new InvalidOperationException("must not be reached");
            },
        };
        using var client = new HttpClient(EgressConnectCallback.Apply(handler, policy));

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetAsync(server.Url()));

        Assert.Equal(0, calls);
    }

    [Theory]
    [InlineData("169.254.169.254")]
    [InlineData("10.1.2.3")]
    [InlineData("100.64.0.1")]
    [InlineData("fd00:ec2::254")]
    [InlineData("::ffff:127.0.0.1")]
    public async Task MetadataPrivateAndCgnatAnswers_AreDenied_ForDomainTokens(string address)
    {
        using var policy = TestPolicies.Create("test.example");
        var resolver = TestPolicies.Resolver(new Dictionary<string, string[]> { ["svc.test.example"] = [address] });
        using var client = new HttpClient(EgressConnectCallback.Apply(new SocketsHttpHandler(), policy, resolver));

        var ex = await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetAsync("http://svc.test.example/"));

        var denied = Assert.IsType<EgressDeniedException>(ex.InnerException);
        Assert.Equal(Egress.Policy.EgressOutcome.SpecialPurposeAddress, denied.Decision.Outcome);
    }
}

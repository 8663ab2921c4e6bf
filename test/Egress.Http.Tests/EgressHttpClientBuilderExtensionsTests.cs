using System.Net;
using Egress.Policy;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;

namespace Egress.Http.Tests;

public sealed class EgressHttpClientBuilderExtensionsTests
{
    private static HttpClient Client(EgressPolicy policy, Func<string, CancellationToken, Task<IPAddress[]>>? resolver = null, string name = "api")
    {
        var services = new ServiceCollection();
        services.AddHttpClient(name).AddEgressPolicy(o =>
        {
            o.Policy = policy;
            o.Resolver = resolver;
        });
        return services.BuildServiceProvider().GetRequiredService<IHttpClientFactory>().CreateClient(name);
    }

    [Fact]
    public async Task DeniedHost_FailsWithEgressDeniedException_AndOpensNoConnection()
    {
        using var server = new LoopbackServer();
        using var policy = TestPolicies.Create("example.com");
        using var client = Client(policy);

        var ex = await Assert.ThrowsAsync<EgressDeniedException>(() => client.GetAsync(server.Url()));

        Assert.Equal(0, server.Connections);
        Assert.Equal("127.0.0.1", ex.Decision.DestinationHost);
        Assert.Contains("127.0.0.1", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"add '127.0.0.1:{server.Port}' (or '=127.0.0.1:{server.Port}' for this host only)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("not in allowlist", ex.Message, StringComparison.Ordinal);
        Assert.Contains("EGRESS_ALLOWLIST", ex.Message, StringComparison.Ordinal);
        Assert.Contains("policy_allowlist.lock", ex.Message, StringComparison.Ordinal);
        var evt = Assert.Single(policy.Events.RecentEvents());
        Assert.Equal(("DENY", "http"), (evt.Action, evt.Source));
    }

    [Fact]
    public async Task DeniedException_IsAnHttpRequestException()
    {
        using var policy = TestPolicies.Create("example.com");
        using var client = Client(policy);

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetAsync("http://denied.invalid/"));
    }

    [Fact]
    public async Task AllowedIpToken_ReachesServer_AndRecordsOneAllowEvent()
    {
        using var server = new LoopbackServer();
        using var policy = TestPolicies.Create($"127.0.0.1:{server.Port}");
        using var client = Client(policy);

        using var response = await client.GetAsync(server.Url());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, server.Connections);
        var evt = Assert.Single(policy.Events.RecentEvents());
        Assert.Equal(("ALLOW", "http", $"127.0.0.1:{server.Port}"), (evt.Action, evt.Source, evt.Token));
    }

    [Fact]
    public async Task RedirectToDeniedHost_IsStoppedAtThatHop_WithNoConnectionToIt()
    {
        using var denied = new LoopbackServer();
        using var allowed = new LoopbackServer(_ => LoopbackServer.Redirect($"http://127.0.0.1:{denied.Port}/next"));
        using var policy = TestPolicies.Create($"127.0.0.1:{allowed.Port}");
        using var client = Client(policy);

        var ex = await Assert.ThrowsAsync<EgressDeniedException>(() => client.GetAsync(allowed.Url()));

        Assert.Equal(1, allowed.Requests);
        Assert.Equal(0, denied.Connections);
        Assert.Equal(denied.Port, ex.Decision.Port);
        Assert.Contains(policy.Events.RecentEvents(), e => e.IsBlocked && e.Port == denied.Port && e.Source == "http");
    }

    [Fact]
    public async Task RedirectToAllowedHost_IsFollowed_AndEachHopRecorded()
    {
        using var second = new LoopbackServer();
        using var first = new LoopbackServer(_ => LoopbackServer.Redirect(second.Url("/next")));
        using var policy = TestPolicies.Create($"127.0.0.1:{first.Port},127.0.0.1:{second.Port}");
        using var client = Client(policy);

        using var response = await client.GetAsync(first.Url());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, second.Requests);
        Assert.Equal(2, policy.Events.RecentEvents().Count(e => e.Allowed));
    }

    [Theory]
    [InlineData("test.example")] // domain token: the host is allowed, the loopback address is not
    [InlineData("api")] // keyword token
    public async Task NameResolvingToLoopback_IsDenied_UnlessExplicitlyAllowed(string token)
    {
        using var server = new LoopbackServer();
        using var policy = TestPolicies.Create(token);
        using var client = Client(policy, TestPolicies.Resolver(new Dictionary<string, string[]> { ["api.test.example"] = ["127.0.0.1"] }));

        var ex = await Assert.ThrowsAsync<EgressDeniedException>(() => client.GetAsync($"http://api.test.example:{server.Port}/"));

        Assert.Equal(0, server.Connections);
        Assert.Equal(EgressOutcome.SpecialPurposeAddress, ex.Decision.Outcome);
        Assert.Contains("=api.test.example", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("=api.test.example")]
    [InlineData("test.example,127.0.0.0/8")]
    public async Task NameResolvingToLoopback_IsAllowed_ByExactHostOrCidrToken(string allowlist)
    {
        using var server = new LoopbackServer();
        using var policy = TestPolicies.Create(allowlist);
        using var client = Client(policy, TestPolicies.Resolver(new Dictionary<string, string[]> { ["api.test.example"] = ["127.0.0.1"] }));

        using var response = await client.GetAsync($"http://api.test.example:{server.Port}/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, server.Connections);
    }

    [Fact]
    public async Task OneDeniedAddressAmongSeveral_RefusesTheConnection()
    {
        using var server = new LoopbackServer();
        using var policy = TestPolicies.Create("test.example");
        // A public address first, then loopback: a rebinding answer. Nothing may be dialled.
        using var client = Client(policy, TestPolicies.Resolver(new Dictionary<string, string[]> { ["api.test.example"] = ["93.184.216.34", "127.0.0.1"] }));

        var ex = await Assert.ThrowsAsync<EgressDeniedException>(() => client.GetAsync($"http://api.test.example:{server.Port}/"));

        Assert.Equal(0, server.Connections);
        Assert.Contains("127.0.0.1", ex.Decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connection_ResolvesOnce_AndDialsTheCheckedAddress()
    {
        using var server = new LoopbackServer();
        using var policy = TestPolicies.Create("=api.test.example");
        var calls = new System.Runtime.CompilerServices.StrongBox<int>();
        using var client = Client(policy, TestPolicies.Resolver(new Dictionary<string, string[]> { ["api.test.example"] = ["127.0.0.1"] }, calls));

        using var response = await client.GetAsync($"http://api.test.example:{server.Port}/");

        Assert.Equal(1, calls.Value);
        Assert.Equal(1, server.Connections);
    }

    [Fact]
    public async Task AuditMode_LetsDeniedRequestThrough_AndRecordsWouldDeny()
    {
        using var server = new LoopbackServer();
        using var policy = TestPolicies.Create("example.com", enforce: false);
        using var client = Client(policy);

        using var response = await client.GetAsync(server.Url());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, server.Connections);
        Assert.Equal(1, policy.Events.WouldBlockTotal);
        Assert.Equal(0, policy.Events.BlockedTotal);
        var evt = Assert.Single(policy.Events.RecentEvents());
        Assert.True(evt.WouldDeny);
        Assert.Equal("http", evt.Source);
    }

    [Fact]
    public async Task AuditMode_SpecialPurposeAddress_IsRecordedOnce()
    {
        using var server = new LoopbackServer();
        using var policy = TestPolicies.Create("test.example", enforce: false);
        using var client = Client(policy, TestPolicies.Resolver(new Dictionary<string, string[]> { ["api.test.example"] = ["127.0.0.1"] }));

        using var response = await client.GetAsync($"http://api.test.example:{server.Port}/");

        Assert.Equal(1, server.Connections);
        Assert.Equal(1, policy.Events.WouldBlockTotal);
    }

    [Fact]
    public void AddEgressPolicy_Twice_AddsOneHandler()
    {
        using var policy = TestPolicies.Create("example.com");
        var services = new ServiceCollection();
        services.AddHttpClient("api").AddEgressPolicy(o => o.Policy = policy).AddEgressPolicy();
        services.AddEgressPolicyForAllHttpClients();
        using var provider = services.BuildServiceProvider();

        var handler = provider.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler("api");

        Assert.Equal(1, Chain(handler).Count(h => h is EgressPolicyHandler));
        Assert.Single(provider.GetServices<IHttpMessageHandlerBuilderFilter>(), f => f.GetType().Name == "EgressHandlerBuilderFilter");
    }

    [Fact]
    public void ClientWithoutAddEgressPolicy_IsLeftAlone()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("api").AddEgressPolicy();
        services.AddHttpClient("other");
        using var provider = services.BuildServiceProvider();

        var handler = provider.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler("other");

        Assert.DoesNotContain(Chain(handler), h => h is EgressPolicyHandler);
    }

    [Fact]
    public async Task ForAllHttpClients_CoversNamedAndDefaultClients()
    {
        using var server = new LoopbackServer();
        using var policy = TestPolicies.Create("example.com");
        var services = new ServiceCollection();
        services.AddEgressPolicyForAllHttpClients(o => o.Policy = policy);
        services.AddHttpClient("named");
        using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<IHttpClientFactory>();

        foreach (var client in new[] { factory.CreateClient(), factory.CreateClient("named") })
        {
            using (client)
            {
                await Assert.ThrowsAsync<EgressDeniedException>(() => client.GetAsync(server.Url()));
            }
        }

        Assert.Equal(0, server.Connections);
    }

    [Fact]
    public async Task ConfigurationSection_Binds_GuardConnections()
    {
        using var server = new LoopbackServer();
        using var policy = TestPolicies.Create("=api.test.example");
        var section = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Egress:GuardConnections"] = "false" })
            .Build().GetSection("Egress");
        var services = new ServiceCollection();
        services.AddHttpClient("api").AddEgressPolicy(section).AddEgressPolicy(o => o.Policy = policy);
        using var provider = services.BuildServiceProvider();

        var handler = provider.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler("api");

        var sockets = Chain(handler).OfType<SocketsHttpHandler>().Single();
        Assert.False(EgressConnectCallback.IsApplied(sockets));
        await Task.CompletedTask;
    }

    [Fact]
    public void ConfigurationSection_InvalidValue_FailsClosed()
    {
        var section = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Egress:GuardConnections"] = "maybe" })
            .Build().GetSection("Egress");
        var services = new ServiceCollection();
        services.AddEgressPolicyForAllHttpClients(section);
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler("x"));

        Assert.Contains("Egress:GuardConnections", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PrimaryHttpClientHandler_GetsTheConnectionGuardOnItsSocketsHandler()
    {
        var services = new ServiceCollection();
        services.AddHttpClient("api").ConfigurePrimaryHttpMessageHandler(() => new HttpClientHandler()).AddEgressPolicy();
        using var provider = services.BuildServiceProvider();

        var handler = provider.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler("api");

        var primary = Chain(handler).OfType<HttpClientHandler>().Single();
        var sockets = DependencyInjection.PrimaryHandlerAccess.FindSockets(primary);
        Assert.NotNull(sockets);
        Assert.True(EgressConnectCallback.IsApplied(sockets));
    }

    private static List<HttpMessageHandler> Chain(HttpMessageHandler handler)
    {
        var chain = new List<HttpMessageHandler>();
        for (HttpMessageHandler? current = handler; current is not null; current = (current as DelegatingHandler)?.InnerHandler)
        {
            chain.Add(current);
        }

        return chain;
    }
}

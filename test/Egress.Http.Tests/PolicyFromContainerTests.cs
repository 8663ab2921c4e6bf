using Egress.Policy;
using Egress.Policy.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Egress.Http.Tests;

/// <summary><c>services.AddEgressPolicy(...)</c>: factory clients enforce the container's policy, not the process-wide one.</summary>
public sealed class PolicyFromContainerTests
{
    [Fact]
    public async Task FactoryClient_EnforcesAndRecordsOnTheContainersPolicy()
    {
        using var server = new LoopbackServer();
        var services = new ServiceCollection();
        services.AddEgressPolicy(o => o.Configuration = new EgressOptions { Allowlist = ["example.com"], LogLevel = 0 });
        services.AddHttpClient("api").AddEgressPolicy();
        await using var provider = services.BuildServiceProvider();
        var policy = provider.GetRequiredService<EgressPolicy>();
        using var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("api");

        await Assert.ThrowsAsync<EgressDeniedException>(() => client.GetAsync(server.Url()));

        Assert.Equal(0, server.Connections);
        Assert.NotSame(EgressPolicy.Shared, policy);
        var evt = Assert.Single(policy.Events.RecentEvents());
        Assert.Equal(("DENY", "127.0.0.1"), (evt.Action, evt.Host));
    }

    [Fact]
    public async Task AnExplicitPolicyOnTheClient_WinsOverTheContainers()
    {
        using var server = new LoopbackServer();
        using var own = TestPolicies.Create($"127.0.0.1:{server.Port}");
        var services = new ServiceCollection();
        services.AddEgressPolicy(o => o.Configuration = new EgressOptions { Allowlist = ["example.com"], LogLevel = 0 });
        services.AddHttpClient("api").AddEgressPolicy(o => o.Policy = own);
        await using var provider = services.BuildServiceProvider();
        using var client = provider.GetRequiredService<IHttpClientFactory>().CreateClient("api");

        using var response = await client.GetAsync(server.Url());

        Assert.Single(own.Events.RecentEvents());
        Assert.Empty(provider.GetRequiredService<EgressPolicy>().Events.RecentEvents());
    }
}

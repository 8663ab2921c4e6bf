using System.Net;

namespace Egress.Http.Tests;

/// <summary>
/// The guard decides the authority actually dialled, not the Host header that SocketsHttpHandler's metrics
/// report as <c>server.address</c> (issue 14.1): a Host header naming an allowed host must not open a denied address.
/// </summary>
[Collection(ProcessWideGuard.Name)]
public sealed class GuardDialledAuthorityTests
{
    private static readonly IPAddress Other = IPAddress.Parse("127.0.0.2");

    [Fact]
    public async Task HostHeaderNamingAnAllowedHost_DoesNotReachADeniedDialledAddress()
    {
        using var server = new LoopbackServer(address: Other);
        using var policy = TestPolicies.Create("allowed.example");
        using var client = new HttpClient();

        using (EgressGuard.Install(policy))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, server.Url());
            request.Headers.Host = "allowed.example";
            var ex = await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.SendAsync(request));
            Assert.NotNull(FindDenied(ex));
        }

        Assert.Equal(0, server.Requests);
        var events = policy.Events.RecentEvents();
        Assert.DoesNotContain(events, e => e.Action == "ALLOW");
        var denied = Assert.Single(events, e => e.Action == "DENY");
        Assert.Equal(("127.0.0.2", server.Port), (denied.Host, denied.Port));
    }

    [Fact]
    public async Task HostHeaderNamingADeniedHost_OnAnAllowedAddress_IsDenied()
    {
        using var server = new LoopbackServer(address: Other);
        using var policy = TestPolicies.Create("127.0.0.2");
        using var client = new HttpClient();

        using (EgressGuard.Install(policy))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, server.Url());
            request.Headers.Host = "denied.example";
            var ex = await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.SendAsync(request));
            Assert.NotNull(FindDenied(ex));
        }

        Assert.Equal(0, server.Requests);
        var denied = Assert.Single(policy.Events.RecentEvents());
        Assert.Equal(("DENY", "denied.example"), (denied.Action, denied.Host));
    }

    [Fact]
    public async Task BothAllowed_RecordsTheDialledAuthorityAndAddressOnce()
    {
        using var server = new LoopbackServer(address: Other);
        using var policy = TestPolicies.Create("127.0.0.2,allowed.example");
        using var client = new HttpClient();

        using (EgressGuard.Install(policy))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, server.Url());
            request.Headers.Host = "allowed.example";
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(1, server.Requests);
        var evt = Assert.Single(policy.Events.RecentEvents());
        Assert.Equal(("ALLOW", "127.0.0.2", server.Port), (evt.Action, evt.Host, evt.Port));
    }

    [Fact]
    public async Task HandlerWithoutPropagator_StillRefusesTheDeniedDialledAddress_AtTheConnection()
    {
        // No diagnostics stage: only the metrics hook, whose request-start host is the Host header. The connection
        // signal's peer address (127.0.0.2, loopback, named by no token) stops it before a request byte is sent.
        using var server = new LoopbackServer(address: Other);
        using var policy = TestPolicies.Create("allowed.example");
        using var client = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null });

        using (EgressGuard.Install(policy))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, server.Url());
            request.Headers.Host = "allowed.example";
            var ex = await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.SendAsync(request));
            Assert.NotNull(FindDenied(ex));
        }

        Assert.Equal(0, server.Requests);
        var events = policy.Events.RecentEvents();
        Assert.DoesNotContain(events, e => e.Action == "ALLOW");
        var denied = Assert.Single(events);
        Assert.Equal(("127.0.0.2", "loopback"), (denied.Address, denied.Range));
    }

    [Fact]
    public async Task HandlerWithoutPropagator_AllowedRequest_IsRecordedOnceWithThePeerAddress()
    {
        using var server = new LoopbackServer(address: Other);
        using var policy = TestPolicies.Create("127.0.0.2");
        using var client = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null });

        using (EgressGuard.Install(policy))
        {
            (await client.GetAsync(server.Url())).Dispose();
            (await client.GetAsync(server.Url())).Dispose();
        }

        var events = policy.Events.RecentEvents();
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal(("ALLOW", "127.0.0.2", "127.0.0.2"), (e.Action, e.Host, e.Address)));
    }

    [Fact]
    public async Task AuditMode_HostHeaderNamingADeniedHost_OnAnAllowedAddress_IsRecordedAsAWouldDeny()
    {
        // Metrics hook only: the name's would-deny must survive the peer address step (it used to be replaced by
        // the dialled host's ALLOW, a silent pass in the audit journal).
        using var server = new LoopbackServer(address: Other);
        using var policy = TestPolicies.Create("127.0.0.2", enforce: false);
        using var client = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null });

        using (EgressGuard.Install(policy))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, server.Url());
            request.Headers.Host = "denied.example";
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(1, server.Requests);
        var evt = Assert.Single(policy.Events.RecentEvents());
        Assert.Equal(("ALLOW", true, "denied.example", "127.0.0.2"), (evt.Action, evt.WouldDeny, evt.Host, evt.Address));
    }

    [Fact]
    public async Task SecondRequestOnAPooledConnection_IsRecordedAgain()
    {
        using var server = new LoopbackServer(address: Other);
        using var policy = TestPolicies.Create("127.0.0.2");
        using var client = new HttpClient();

        using (EgressGuard.Install(policy))
        {
            (await client.GetAsync(server.Url())).Dispose();
            (await client.GetAsync(server.Url())).Dispose();
        }

        Assert.Equal(1, server.Connections);
        Assert.Equal(2, policy.Events.RecentEvents().Count(e => e.Action == "ALLOW" && e.Host == "127.0.0.2"));
    }

    private static EgressDeniedException? FindDenied(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is EgressDeniedException denied)
            {
                return denied;
            }
        }

        return null;
    }
}

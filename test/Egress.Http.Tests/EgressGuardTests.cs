using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace Egress.Http.Tests;

[Collection(ProcessWideGuard.Name)]
public sealed class EgressGuardTests
{
    [Fact]
    public async Task NewHttpClient_ToDeniedHost_FailsBeforeConnecting_AndWorksAgainAfterUninstall()
    {
        using var server = new LoopbackServer();
        using var policy = TestPolicies.Create("example.com");
        using var client = new HttpClient();

        var guard = EgressGuard.Install(policy);
        try
        {
            var ex = await Assert.ThrowsAsync<EgressDeniedException>(() => client.GetAsync(server.Url()));
            Assert.Equal("127.0.0.1", ex.Decision.DestinationHost);
            Assert.Equal(0, server.Connections);
            var evt = Assert.Single(policy.Events.RecentEvents());
            Assert.Equal(("DENY", "http"), (evt.Action, evt.Source));
        }
        finally
        {
            guard.Dispose();
        }

        Assert.False(EgressGuard.IsInstalled);
        using var response = await client.GetAsync(server.Url());
        Assert.Equal(1, server.Connections);
    }

    [Fact]
    public async Task ClientCreatedBeforeInstall_AndFactoryClient_AreCovered()
    {
        using var server = new LoopbackServer();
        using var policy = TestPolicies.Create("example.com");
        using var early = new HttpClient(new SocketsHttpHandler());
        using var provider = new ServiceCollection().AddHttpClient().BuildServiceProvider();
        using var factoryClient = provider.GetRequiredService<IHttpClientFactory>().CreateClient();

        using (EgressGuard.Install(policy))
        {
            await Assert.ThrowsAsync<EgressDeniedException>(() => early.GetAsync(server.Url()));
            await Assert.ThrowsAsync<EgressDeniedException>(() => factoryClient.GetAsync(server.Url()));
        }

        Assert.Equal(0, server.Connections);
        Assert.Equal(2, policy.Events.BlockedTotal);
    }

    [Fact]
    public async Task RedirectToDeniedHost_IsStoppedAtThatHop()
    {
        using var denied = new LoopbackServer();
        using var allowed = new LoopbackServer(_ => LoopbackServer.Redirect($"http://localhost:{denied.Port}/next"));
        using var policy = TestPolicies.Create($"127.0.0.1:{allowed.Port}");
        using var client = new HttpClient();

        using (EgressGuard.Install(policy))
        {
            var ex = await Assert.ThrowsAsync<EgressDeniedException>(() => client.GetAsync(allowed.Url()));
            Assert.Equal("localhost", ex.Decision.DestinationHost);
        }

        Assert.Equal(1, allowed.Requests);
        Assert.Equal(0, denied.Connections);
        Assert.Equal(1, policy.Events.AllowedTotal);
        Assert.Equal(1, policy.Events.BlockedTotal);
    }

    [Fact]
    public async Task HandlerWithoutPropagator_IsStillCovered()
    {
        using var server = new LoopbackServer();
        using var policy = TestPolicies.Create($"127.0.0.1:{server.Port}");
        using var bypassing = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null });

        using (EgressGuard.Install(policy))
        {
            await Assert.ThrowsAsync<EgressDeniedException>(() => bypassing.GetAsync("http://127.0.0.1:1/"));
            using var ok = await bypassing.GetAsync(server.Url());
        }

        Assert.Equal(1, server.Connections);
        Assert.Equal(1, policy.Events.BlockedTotal);
        Assert.Equal(1, policy.Events.AllowedTotal);
    }

    [Fact]
    public void Status_ReportsMetricsHookAndDiagnosticsHookActive()
    {
        using var policy = TestPolicies.Create("example.com");
        Assert.False(EgressGuard.Status.Installed);

        using (EgressGuard.Install(policy))
        {
            var status = EgressGuard.Status;
            Assert.True(status.Installed);
            Assert.True(status.MetricsHookActive);
            Assert.True(status.DiagnosticsHookAvailable);
            Assert.True(status.DiagnosticsHookActive); // sees the request itself: URI and Host header
            Assert.True(status.CoversHandlersWithoutPropagator);
            Assert.False(status.ActivityPropagationDisabled);
            Assert.True(status.IsProtected);
            Assert.Empty(status.Warnings);
            Assert.Equal("egress guard: protected (metrics hook on, diagnostics hook on)", status.ToString());
        }

        // The self-test leaves no event behind.
        Assert.Empty(policy.Events.RecentEvents());
    }

    [Fact]
    public void Install_IsIdempotent_AndRefusesASecondPolicy()
    {
        using var policy = TestPolicies.Create("example.com");
        using var other = TestPolicies.Create("example.org");

        var first = EgressGuard.Install(policy);
        var second = EgressGuard.Install(policy);
        try
        {
            Assert.Throws<InvalidOperationException>(() => EgressGuard.Install(other));
            first.Dispose();
            first.Dispose();
            Assert.True(EgressGuard.IsInstalled);
        }
        finally
        {
            second.Dispose();
            first.Dispose();
        }

        Assert.False(EgressGuard.IsInstalled);
    }

    [Fact]
    public async Task AuditMode_PassesAndRecordsWouldDenyOncePerHop()
    {
        using var server = new LoopbackServer();
        using var policy = TestPolicies.Create("example.com", enforce: false);
        using var client = new HttpClient();

        using (EgressGuard.Install(policy))
        {
            using var response = await client.GetAsync(server.Url());
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(1, server.Connections);
        Assert.Equal(1, policy.Events.WouldBlockTotal);
        Assert.Single(policy.Events.RecentEvents());
    }

    [Fact]
    public async Task AllowedRequest_IsRecordedOnce()
    {
        using var server = new LoopbackServer();
        using var policy = TestPolicies.Create($"127.0.0.1:{server.Port}");
        using var client = new HttpClient();

        using (EgressGuard.Install(policy))
        {
            using var response = await client.GetAsync(server.Url());
        }

        var evt = Assert.Single(policy.Events.RecentEvents());
        Assert.Equal(("ALLOW", "http"), (evt.Action, evt.Source));
    }

    [Fact]
    public void PropagationSwitchOff_IsDetected()
    {
        AppContext.TryGetSwitch("System.Net.Http.EnableActivityPropagation", out bool before);
        AppContext.SetSwitch("System.Net.Http.EnableActivityPropagation", false);
        try
        {
            Assert.True(EgressGuard.IsActivityPropagationDisabled());
            Assert.True(EgressGuard.Status.ActivityPropagationDisabled);
        }
        finally
        {
            AppContext.SetSwitch("System.Net.Http.EnableActivityPropagation", true);
        }
    }

    [Fact]
    public async Task DiagnosticsHookAlone_RefusesEachHop_BeforeConnecting()
    {
        using var denied = new LoopbackServer();
        using var allowed = new LoopbackServer(_ => LoopbackServer.Redirect($"http://localhost:{denied.Port}/next"));
        using var policy = TestPolicies.Create($"127.0.0.1:{allowed.Port}");
        using var client = new HttpClient();

        // The diagnostics hook alone (as when the metrics hook is unavailable): System.Net.Http.Request, per hop.
        using (new Guard.DiagnosticsHook(policy))
        {
            var ex = await Assert.ThrowsAsync<EgressDeniedException>(() => client.GetAsync(allowed.Url()));
            Assert.Equal("localhost", ex.Decision.DestinationHost);
            await Assert.ThrowsAsync<EgressDeniedException>(() => client.GetAsync(denied.Url()));
        }

        Assert.Equal(1, allowed.Requests);
        Assert.Equal(0, denied.Connections);
        Assert.Equal(2, policy.Events.BlockedTotal);
    }

    [Fact]
    public async Task InstalledGuard_AddsNoTraceHeader()
    {
        string? head = null;
        using var server = new LoopbackServer(request =>
        {
            head = request;
            return LoopbackServer.Ok("ok");
        });
        using var policy = TestPolicies.Create($"127.0.0.1:{server.Port}");
        using var client = new HttpClient();

        using (EgressGuard.Install(policy))
        {
            using var response = await client.GetAsync(server.Url());
        }

        Assert.NotNull(head);
        Assert.DoesNotContain("traceparent", head, StringComparison.OrdinalIgnoreCase);
    }
}

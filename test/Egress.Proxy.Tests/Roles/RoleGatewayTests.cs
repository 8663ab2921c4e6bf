using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Egress.Policy.Roles;
using Egress.Policy.Telemetry;
using Egress.Proxy.Gateway;
using Egress.Proxy.Tests.Support;

namespace Egress.Proxy.Tests.Roles;

/// <summary>
/// Roles through the real gateway and the real curl: clients chosen by source address (curl --interface on
/// 127.0.0.x), by Proxy-Authorization user (curl --proxy-user), each decided by its own allowlist; the role on
/// the 403 body, the events and the metrics; 407 for wrong credentials; reload swapping every role at once.
/// </summary>
public sealed class RoleGatewayTests
{
    private const string Secret = "s3cret";
    private const string SecretHash = "sha256:1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0";

    [Fact]
    public async Task SourceRoles_GiveEachClientItsOwnAllowlist_AndUnknownClientsTheDefault()
    {
        using var origin = new MiniHttpServer();
        await using var gateway = RoleGateway.Start($"""
            =default-only.invalid
            [role one]
            match source 127.0.0.1
            127.0.0.1:{origin.Port}
            [role two]
            match source 127.0.0.2/32
            =two-only.invalid
            """);
        string url = $"http://127.0.0.1:{origin.Port}/x";

        var one = await gateway.CurlAsync(url, "--interface", "127.0.0.1");
        Assert.Equal(200, one.Status);
        var two = await gateway.CurlAsync(url, "--interface", "127.0.0.2");
        Assert.Equal(403, two.Status);
        Assert.Equal("two", JsonDocument.Parse(two.Body).RootElement.GetProperty("role").GetString());
        var other = await gateway.CurlAsync(url, "--interface", "127.0.0.3");
        Assert.Equal(403, other.Status);
        Assert.Equal(RoleFile.DefaultRole, JsonDocument.Parse(other.Body).RootElement.GetProperty("role").GetString());

        var events = gateway.Events().ToList();
        Assert.Contains(events, e => e is { Role: "one", Client: "127.0.0.1", Action: "ALLOW" });
        Assert.Contains(events, e => e is { Role: "two", Client: "127.0.0.2", Action: "DENY" });
        Assert.Contains(events, e => e is { Role: "default", Client: "127.0.0.3", Action: "DENY" });
        Assert.All(events, e => Assert.NotNull(e.Role));
    }

    [Fact]
    public async Task UserRoles_AuthenticatedClients_GetTheirRole_WrongCredentialsGet407_NoCredentialsTheDefault()
    {
        using var origin = new MiniHttpServer();
        await using var gateway = RoleGateway.Start($"""
            [role ci]
            match user ci-bot {SecretHash}
            127.0.0.1:{origin.Port}
            """);
        string url = $"http://127.0.0.1:{origin.Port}/";

        Assert.Equal(200, (await gateway.CurlAsync(url, "--proxy-user", $"ci-bot:{Secret}")).Status);
        // CONNECT carries Proxy-Authorization too (curl --proxytunnel).
        Assert.Equal(200, (await gateway.CurlAsync(url, "--proxytunnel", "--proxy-user", $"ci-bot:{Secret}")).Status);

        var wrong = await gateway.CurlAsync(url, "-i", "--proxy-user", "ci-bot:wrong");
        Assert.Equal(407, wrong.Status);
        Assert.Contains("Proxy-Authenticate: Basic", wrong.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", wrong.Body.Replace("wrong password", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Equal(407, (await gateway.CurlAsync(url, "--proxy-user", $"nobody:{Secret}")).Status);
        Assert.Equal(407, (await gateway.CurlAsync(url, "-H", "Proxy-Authorization: Bearer abc")).Status);

        var anonymous = await gateway.CurlAsync(url);
        Assert.Equal(403, anonymous.Status);
        Assert.Equal("default", JsonDocument.Parse(anonymous.Body).RootElement.GetProperty("role").GetString());
        Assert.Contains(gateway.Events(), e => e is { Role: "ci", Client: "ci-bot@127.0.0.1", Action: "ALLOW" });
        Assert.DoesNotContain(gateway.Events(), e => e.Role is null);
    }

    [Fact]
    public async Task ProxyAuthorization_ForRoleSelection_IsNotForwardedUpstream()
    {
        using var origin = new HeadEchoOrigin();
        await using var gateway = RoleGateway.Start($"""
            [role ci]
            match user ci-bot {SecretHash}
            127.0.0.1:{origin.Port}
            """);
        var echoed = await gateway.CurlAsync($"http://127.0.0.1:{origin.Port}/echo", "--proxy-user", $"ci-bot:{Secret}");
        Assert.Equal(200, echoed.Status);
        Assert.StartsWith("GET /echo HTTP/1.1", echoed.Body, StringComparison.Ordinal);
        Assert.DoesNotContain("Proxy-Authorization", echoed.Body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Y2ktYm90", echoed.Body, StringComparison.Ordinal); // base64 of "ci-bot"
    }

    [Fact]
    public async Task Metrics_CarryTheRole()
    {
        using var origin = new MiniHttpServer();
        var seen = new ConcurrentBag<(string Instrument, string? Role)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == EgressMetricNames.Meter && instrument.Name is EgressMetricNames.Allowed or EgressMetricNames.Blocked)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) =>
        {
            string? role = null;
            foreach (var tag in tags)
            {
                if (tag.Key == EgressMetricNames.RoleTag)
                {
                    role = tag.Value as string;
                }
            }

            seen.Add((instrument.Name, role));
        });
        listener.Start();
        await using var gateway = RoleGateway.Start($"""
            [role metrics-role]
            match source 127.0.0.1
            127.0.0.1:{origin.Port}
            """);
        Assert.Equal(200, (await gateway.CurlAsync($"http://127.0.0.1:{origin.Port}/", "--interface", "127.0.0.1")).Status);
        Assert.Equal(403, (await gateway.CurlAsync($"http://127.0.0.1:{origin.Port}/", "--interface", "127.0.0.5")).Status);

        Assert.Contains((EgressMetricNames.Allowed, "metrics-role"), seen);
        Assert.Contains((EgressMetricNames.Blocked, (string?)"default"), seen);
    }

    [Fact]
    public async Task Reload_SwapsEveryRoleAtOnce_AndABadFileKeepsTheRunningRoles()
    {
        using var origin = new MiniHttpServer();
        string url = $"http://127.0.0.1:{origin.Port}/";
        await using var gateway = RoleGateway.Start($"""
            [role a]
            match source 127.0.0.1
            127.0.0.1:{origin.Port}
            [role b]
            match source 127.0.0.2
            =nothing.invalid
            """);
        Assert.Equal(200, (await gateway.CurlAsync(url, "--interface", "127.0.0.1")).Status);
        Assert.Equal(403, (await gateway.CurlAsync(url, "--interface", "127.0.0.2")).Status);

        gateway.Write($"""
            [role a]
            match source 127.0.0.1
            =nothing.invalid
            [role b]
            match source 127.0.0.2
            127.0.0.1:{origin.Port}
            """);
        Assert.True(await gateway.Reloader.ReloadAsync() is "accepted" or "unchanged");
        Assert.Equal(403, (await gateway.CurlAsync(url, "--interface", "127.0.0.1")).Status);
        Assert.Equal(200, (await gateway.CurlAsync(url, "--interface", "127.0.0.2")).Status);
        var sha = gateway.Holder.Current.Sha256;

        // Overlapping roles: rejected, naming the file and the line; the running roles stay.
        gateway.Write("[role a]\nmatch source 127.0.0.0/8\n[role b]\nmatch source 127.0.0.2\n");
        Assert.Equal("rejected", await gateway.Reloader.ReloadAsync());
        Assert.Contains($"policy file {gateway.PolicyPath} line 4", gateway.Log.ToString(), StringComparison.Ordinal);
        Assert.Equal(sha, gateway.Holder.Current.Sha256);
        Assert.Equal(200, (await gateway.CurlAsync(url, "--interface", "127.0.0.2")).Status);

        // Back to a plain lock file: no roles, every client the same allowlist, no role on the events.
        gateway.Write($"127.0.0.1:{origin.Port}\n");
        Assert.True(await gateway.Reloader.ReloadAsync() is "accepted" or "unchanged");
        Assert.Null(gateway.Holder.Current.Roles);
        Assert.Equal(200, (await gateway.CurlAsync(url, "--interface", "127.0.0.1")).Status);
    }

    [Fact]
    public void SubjectRoles_WithoutAVerifyingTlsListener_AreRefused_NamingTheLine()
    {
        using var dir = new Egress.TestUtils.TempDirectory();
        File.WriteAllText(dir.File("p.lock"), "[role r]\nmatch subject CN=x\nexample.com\n");
        Assert.True(PolicyFile.TryLoad(dir.File("p.lock"), out RoleFileContent? content, out var sha, out _));
        using var policy = Egress.Policy.EgressPolicy.Create(new Egress.Policy.Configuration.EgressOptions { LogLevel = 0 }, TextWriter.Null);
        var ex = Assert.Throws<InvalidOperationException>(() => new GatewayHost(policy, null, sha, TextWriter.Null, content, verifiesClientCertificates: false));
        Assert.Contains("line 2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--client-ca", ex.Message, StringComparison.Ordinal);
    }
}

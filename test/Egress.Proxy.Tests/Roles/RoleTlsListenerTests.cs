using System.Text.Json;
using Egress.Proxy.Gateway;
using Egress.Proxy.Tests.Support;

namespace Egress.Proxy.Tests.Roles;

/// <summary>
/// The gateway's TLS listener with certificates made by the real openssl and the real curl as an HTTPS-proxy
/// client (--proxy https://, --proxy-cert): a verified client certificate's subject selects a role; without a
/// certificate, or with one from another CA, the handshake fails and nothing is decided.
/// </summary>
public sealed class RoleTlsListenerTests
{
    [Fact]
    public async Task ClientCertificateSubject_SelectsTheRole_OverPlainAndTunnelledRequests()
    {
        using var certs = await OpensslCertificates.CreateAsync();
        await certs.ClientAsync("runner", "/O=Example/CN=runner-1");
        await certs.ClientAsync("stranger", "/O=Example/CN=stranger");
        using var origin = new MiniHttpServer();
        var tls = GatewayTls.Load(certs.ServerCert, certs.ServerKey, certs.CaCert);
        await using var gateway = RoleGateway.Start($"""
            [role runners]
            match subject CN=runner-1, O=Example
            127.0.0.1:{origin.Port}
            """, tls);
        string url = $"http://127.0.0.1:{origin.Port}/tls";
        string[] trust = ["--proxy-cacert", certs.CaCert];

        var plain = await gateway.CurlAsync(url, [.. trust, "--proxy-cert", certs.Cert("runner"), "--proxy-key", certs.Key("runner")]);
        Assert.True(plain.Status == 200, plain.Result.StdErr + plain.Body);
        Assert.Contains("GET /tls", plain.Body, StringComparison.Ordinal);
        var tunnelled = await gateway.CurlAsync(url, [.. trust, "--proxytunnel", "--proxy-cert", certs.Cert("runner"), "--proxy-key", certs.Key("runner")]);
        Assert.True(tunnelled.Status == 200, tunnelled.Result.StdErr + tunnelled.Body);

        // Verified, but no role names it: the default (empty here: deny everything).
        var stranger = await gateway.CurlAsync(url, [.. trust, "--proxy-cert", certs.Cert("stranger"), "--proxy-key", certs.Key("stranger")]);
        Assert.Equal(403, stranger.Status);
        Assert.Equal("default", JsonDocument.Parse(stranger.Body).RootElement.GetProperty("role").GetString());
        Assert.Contains(gateway.Events(), e => e is { Role: "runners", Client: "127.0.0.1", Action: "ALLOW" });

        var health = await Curl.RunAsync("-s", "--cacert", certs.CaCert, "--cert", certs.Cert("runner"), "--key", certs.Key("runner"), $"{gateway.Url}/healthz");
        Assert.StartsWith("ok", health.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithAClientCa_NoCertificate_OrOneFromAnotherCa_FailsTheHandshake_AndDecidesNothing()
    {
        using var certs = await OpensslCertificates.CreateAsync();
        await certs.ClientAsync("forged", "/O=Example/CN=runner-1", ca: "other-ca");
        using var origin = new MiniHttpServer();
        await using var gateway = RoleGateway.Start($"127.0.0.1:{origin.Port}\n[role runners]\nmatch subject CN=runner-1, O=Example\n127.0.0.1:{origin.Port}\n",
            GatewayTls.Load(certs.ServerCert, certs.ServerKey, certs.CaCert));
        string url = $"http://127.0.0.1:{origin.Port}/";

        var none = await gateway.CurlAsync(url, "--proxy-cacert", certs.CaCert);
        Assert.NotEqual(0, none.Result.ExitCode);
        Assert.Equal(0, none.Status);
        var forged = await gateway.CurlAsync(url, "--proxy-cacert", certs.CaCert, "--proxy-cert", certs.Cert("forged"), "--proxy-key", certs.Key("forged"));
        Assert.NotEqual(0, forged.Result.ExitCode);
        Assert.Equal(0, forged.Status);
        Assert.Empty(gateway.Events());
    }

    [Fact]
    public async Task WithoutAClientCa_TlsClientsAreServed_AndNeverGetASubjectRole()
    {
        using var certs = await OpensslCertificates.CreateAsync();
        await certs.ClientAsync("runner", "/O=Example/CN=runner-1");
        using var origin = new MiniHttpServer();
        await using var gateway = RoleGateway.Start($"[role local]\nmatch source 127.0.0.1\n127.0.0.1:{origin.Port}\n",
            GatewayTls.Load(certs.ServerCert, certs.ServerKey, null));
        var result = await gateway.CurlAsync($"http://127.0.0.1:{origin.Port}/", "--proxy-cacert", certs.CaCert);
        Assert.True(result.Status == 200, result.Result.StdErr);
        Assert.Contains(gateway.Events(), e => e is { Role: "local", Action: "ALLOW" });
    }

    [Fact]
    public async Task ManyTlsClients_OneAfterAnother_LeaveNoConnectionOpen()
    {
        using var certs = await OpensslCertificates.CreateAsync();
        using var origin = new MiniHttpServer();
        await using var gateway = RoleGateway.Start($"[role local]\nmatch source 127.0.0.1\n127.0.0.1:{origin.Port}\n",
            GatewayTls.Load(certs.ServerCert, certs.ServerKey, null));
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(200, (await gateway.CurlAsync($"http://127.0.0.1:{origin.Port}/{i}", "--proxy-cacert", certs.CaCert)).Status);
        }

        for (int i = 0; i < 100 && gateway.Server.ActiveConnections > 0; i++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(0, gateway.Server.ActiveConnections);
    }
}

using Egress.Proxy.Tests.Support;
using Egress.TestUtils;

namespace Egress.Proxy.Tests.Roles;

/// <summary>The real <c>egress-policy proxy</c> process with roles and the TLS listener: bad input fails closed naming the flag, file and line.</summary>
public sealed class RoleCliTests
{
    private const string SecretHash = "sha256:1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0";

    [Theory]
    [InlineData("[role a]\nmatch source 127.0.0.0/8\n[role b]\nmatch source 127.0.0.2\n", "line 4")]
    [InlineData("[role a]\nmatch subject CN=x\n=a.example\n", "line 2")]
    [InlineData("[role a]\n=a.example\n", "line 1")]
    public async Task BadRoleFile_AtStartUp_ExitsTwo_NamingTheLine(string content, string line)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("policy.lock"), content);
        var result = await ProcessRunner.RunCliAsync(["proxy", "--listen", "127.0.0.1:0", "--policy-file", dir.File("policy.lock")], timeout: TimeSpan.FromSeconds(30));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(dir.File("policy.lock"), result.StdErr, StringComparison.Ordinal);
        Assert.Contains(line, result.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", result.StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--tls-cert", "x.pem" }, "--tls-key is missing")]
    [InlineData(new[] { "--client-ca", "ca.pem" }, "--tls-cert is missing")]
    [InlineData(new[] { "--tls-cert", "missing.pem", "--tls-key", "missing.key" }, "--tls-cert")]
    public async Task BadTlsFlags_ExitOne_AsUsageErrors_NamingTheFlag(string[] flags, string message)
    {
        using var dir = new TempDirectory();
        var result = await ProcessRunner.RunCliAsync(["proxy", "--listen", "127.0.0.1:0", .. flags], null, dir.Path, TimeSpan.FromSeconds(30));
        Assert.Equal(1, result.ExitCode);
        Assert.DoesNotContain("listening", result.StdOut, StringComparison.Ordinal);
        Assert.Contains(message, result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TlsGatewayWithRoles_ServesAuthenticatedClients_AndRefusesWrongPasswords()
    {
        using var certs = await OpensslCertificates.CreateAsync();
        using var origin = new MiniHttpServer();
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("policy.lock"), $"[role ci]\nmatch user ci-bot {SecretHash}\n127.0.0.1:{origin.Port}\n");
        using var proxy = await ProxyProcess.StartAsync(new Dictionary<string, string?>(),
            "--policy-file", dir.File("policy.lock"), "--tls-cert", certs.ServerCert, "--tls-key", certs.ServerKey);
        string proxyUrl = $"https://127.0.0.1:{proxy.Port}";
        string url = $"http://127.0.0.1:{origin.Port}/";

        var ok = await Curl.RunAsync("-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", proxyUrl, "--proxy-cacert", certs.CaCert, "--proxy-user", "ci-bot:s3cret", url);
        Assert.Equal("200", ok.StdOut.Trim());
        var wrong = await Curl.RunAsync("-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", proxyUrl, "--proxy-cacert", certs.CaCert, "--proxy-user", "ci-bot:nope", url);
        Assert.Equal("407", wrong.StdOut.Trim());
        var anonymous = await Curl.RunAsync("-s", "-x", proxyUrl, "--proxy-cacert", certs.CaCert, url);
        Assert.Contains("\"role\":\"default\"", anonymous.StdOut, StringComparison.Ordinal);
    }
}

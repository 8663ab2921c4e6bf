using Egress.TestUtils;

namespace Egress.Proxy.Tests.Roles;

/// <summary>
/// Certificates made by the real <c>openssl</c> in a temp folder: a CA, a server certificate for 127.0.0.1 and
/// client certificates signed by the CA (or by another CA, for the refusal case).
/// </summary>
internal sealed class OpensslCertificates : IDisposable
{
    private readonly TempDirectory _dir = new();

    private OpensslCertificates()
    {
    }

    public string CaCert => _dir.File("ca.pem");

    public string ServerCert => _dir.File("server.pem");

    public string ServerKey => _dir.File("server.key");

    public string Cert(string name) => _dir.File(name + ".pem");

    public string Key(string name) => _dir.File(name + ".key");

    public static async Task<OpensslCertificates> CreateAsync()
    {
        var certs = new OpensslCertificates();
        await certs.CaAsync("ca", "/O=Egress Test/CN=egress test CA");
        await certs.CaAsync("other-ca", "/O=Elsewhere/CN=other CA");
        await certs.SignedAsync("server", "/CN=127.0.0.1", "ca", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
        return certs;
    }

    /// <summary>A client certificate with <paramref name="subject"/> (openssl -subj form) signed by <paramref name="ca"/>.</summary>
    public Task ClientAsync(string name, string subject, string ca = "ca") => SignedAsync(name, subject, ca, "extendedKeyUsage=clientAuth\n");

    private async Task CaAsync(string name, string subject)
        => await OpensslAsync("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", subject,
            "-keyout", Key(name), "-out", Cert(name), "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign");

    private async Task SignedAsync(string name, string subject, string ca, string extensions)
    {
        File.WriteAllText(_dir.File(name + ".ext"), extensions);
        await OpensslAsync("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", subject, "-keyout", Key(name), "-out", _dir.File(name + ".csr"));
        await OpensslAsync("x509", "-req", "-in", _dir.File(name + ".csr"), "-CA", Cert(ca), "-CAkey", Key(ca), "-CAcreateserial", "-days", "2",
            "-extfile", _dir.File(name + ".ext"), "-out", Cert(name));
    }

    private static async Task OpensslAsync(params string[] args)
    {
        var result = await ProcessRunner.RunAsync("openssl", args, timeout: TimeSpan.FromSeconds(30));
        Assert.True(result.ExitCode == 0, $"openssl {string.Join(' ', args)}: {result.StdErr}");
    }

    public void Dispose() => _dir.Dispose();
}

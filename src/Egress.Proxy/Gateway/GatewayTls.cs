using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Egress.Proxy.Gateway;

/// <summary>
/// The gateway's TLS listener (<c>--tls-cert</c>, <c>--tls-key</c>, <c>--client-ca</c>): clients speak TLS to the
/// proxy itself, and with a client CA each must present a certificate that chains to it (no revocation
/// check), whose subject can then select a role.
/// </summary>
public sealed class GatewayTls
{
    private readonly SslStreamCertificateContext _server;
    private readonly X509Certificate2Collection? _clientCa;

    /// <summary>Creates the listener settings from a loaded certificate (with its key), its chain and an optional client CA.</summary>
    public GatewayTls(X509Certificate2 certificate, X509Certificate2Collection? chain, X509Certificate2Collection? clientCa)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException($"the certificate {certificate.Subject} has no private key", nameof(certificate));
        }

        _server = SslStreamCertificateContext.Create(certificate, chain, offline: true);
        _clientCa = clientCa is { Count: > 0 } ? clientCa : null;
    }

    /// <summary>Whether clients must present a certificate verified against the client CA.</summary>
    public bool VerifiesClientCertificates => _clientCa is not null;

    /// <summary>Loads PEM files: the certificate (and any chain after it), its key, and the client CA bundle (or null).</summary>
    /// <exception cref="System.Security.Cryptography.CryptographicException">A file is not PEM of the expected kind.</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    public static GatewayTls Load(string certificatePem, string keyPem, string? clientCaPem)
    {
        ArgumentNullException.ThrowIfNull(certificatePem);
        ArgumentNullException.ThrowIfNull(keyPem);
        var certificate = X509Certificate2.CreateFromPemFile(certificatePem, keyPem);
        var all = new X509Certificate2Collection();
        all.ImportFromPemFile(certificatePem);
        var chain = new X509Certificate2Collection();
        foreach (var cert in all.Skip(1))
        {
            chain.Add(cert);
        }

        X509Certificate2Collection? ca = null;
        if (clientCaPem is not null)
        {
            ca = [];
            ca.ImportFromPemFile(clientCaPem);
            if (ca.Count == 0)
            {
                throw new System.Security.Cryptography.CryptographicException($"{clientCaPem} holds no PEM certificate");
            }
        }

        return new GatewayTls(certificate, chain, ca);
    }

    /// <summary>The server options of one handshake.</summary>
    internal SslServerAuthenticationOptions ServerOptions() => new()
    {
        ServerCertificateContext = _server,
        ClientCertificateRequired = _clientCa is not null,
        EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        CertificateChainPolicy = _clientCa is null ? null : ChainPolicy(_clientCa),
        // Without a client CA no certificate is asked for, and its subject is never used (VerifiedSubject).
        RemoteCertificateValidationCallback = _clientCa is null ? null : static (_, certificate, _, errors) => certificate is not null && errors == SslPolicyErrors.None,
    };

    /// <summary>The subject of a verified client certificate, normalised; null when none was verified.</summary>
    internal string? VerifiedSubject(SslStream stream)
        => _clientCa is not null && stream.RemoteCertificate is X509Certificate2 certificate ? certificate.SubjectName.Name : null;

    private static X509ChainPolicy ChainPolicy(X509Certificate2Collection ca)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        policy.CustomTrustStore.AddRange(ca);
        policy.ApplicationPolicy.Add(new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.2", "Client Authentication"));
        return policy;
    }
}

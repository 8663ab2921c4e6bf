using System.Security.Cryptography;
using Egress.Proxy.Gateway;

namespace Egress.Cli.Commands;

/// <summary>Reads <c>--tls-cert</c>, <c>--tls-key</c> and <c>--client-ca</c> of <c>proxy</c> into the gateway's TLS listener.</summary>
internal static class GatewayTlsFlags
{
    /// <summary>Loads the files; false after naming the flag and file at fault on stderr. No flags: no TLS, true.</summary>
    public static bool TryLoad(CliContext ctx, (string? Cert, string? Key, string? ClientCa) files, out GatewayTls? tls)
    {
        tls = null;
        if (files.Cert is null && files.Key is null && files.ClientCa is null)
        {
            return true;
        }

        if (files.Cert is null || files.Key is null)
        {
            ctx.Error.WriteLine($"egress-policy: {(files.Cert is null ? "--tls-cert" : "--tls-key")} is missing: a TLS listener needs both --tls-cert and --tls-key{(files.ClientCa is null ? "" : " (--client-ca verifies clients of a TLS listener)")}");
            return false;
        }

        string cert = ctx.FullPath(files.Cert), key = ctx.FullPath(files.Key);
        string? ca = files.ClientCa is null ? null : ctx.FullPath(files.ClientCa);
        string flag = "--tls-cert/--tls-key";
        try
        {
            foreach (var (name, path) in new[] { ("--tls-cert", cert), ("--tls-key", key), ("--client-ca", ca) })
            {
                if (path is not null && !File.Exists(path))
                {
                    ctx.Error.WriteLine($"egress-policy: {name} {path} does not exist");
                    return false;
                }
            }

            var loaded = GatewayTls.Load(cert, key, null);
            flag = "--client-ca";
            tls = ca is null ? loaded : GatewayTls.Load(cert, key, ca);
            return true;
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            ctx.Error.WriteLine(CliText.Clean($"egress-policy: {flag} {(flag == "--client-ca" ? ca : $"{cert} / {key}")}: {ex.Message}"));
            return false;
        }
    }
}

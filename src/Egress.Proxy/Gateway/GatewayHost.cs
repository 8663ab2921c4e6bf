using System.Security.Cryptography;
using System.Text;
using Egress.Policy;
using Egress.Policy.Roles;
using Egress.Proxy.Roles;

namespace Egress.Proxy.Gateway;

/// <summary>
/// The reloading parts of a gateway around one start-up policy: the <see cref="PolicyHolder"/> the server
/// decides through, the file reloader (when a policy file is used), what SIGHUP does (<see cref="HangUp"/>), the SHA-256 on
/// <c>/healthz</c> and as <c>egress_policy_info</c>. Dispose it after the server has stopped.
/// </summary>
public sealed class GatewayHost : IDisposable
{
    /// <summary>How often the policy file's SHA-256 is compared, under the file watcher.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);

    private readonly EgressPolicy _basis;
    private readonly bool _verifiesClientCertificates;

    /// <summary>Starts the reloading parts.</summary>
    /// <param name="initial">The policy that passed the start-up checks (built from <paramref name="policyFile"/> when given).</param>
    /// <param name="policyFile">The policy file, or null when the policy comes from the environment (nothing to reload).</param>
    /// <param name="sha256">SHA-256 of the policy file's bytes; null to hash the allowlist.</param>
    /// <param name="log">Where reload outcomes go.</param>
    /// <param name="content">The policy file as read at start-up (its roles are compiled here); null without roles.</param>
    /// <param name="verifiesClientCertificates">Whether the listener verifies TLS client certificates (<c>--client-ca</c>); a file that matches subjects needs it.</param>
    /// <exception cref="InvalidOperationException">The roles need a client-certificate check the listener does not make.</exception>
    public GatewayHost(EgressPolicy initial, string? policyFile, string? sha256, TextWriter log, RoleFileContent? content = null, bool verifiesClientCertificates = false)
    {
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(log);
        _basis = initial;
        _verifiesClientCertificates = verifiesClientCertificates;
        var roles = content is { HasRoles: true } ? Compile(content).Roles : null;
        // Without a policy file the allowlist's hash is computed when first asked for (see PolicySnapshot).
        Policies = sha256 is not null ? new PolicyHolder(roles?.Default ?? initial, sha256, roles) : new PolicyHolder(roles?.Default ?? initial, () => Sha256Of(initial), roles);
        GatewayMetrics.Track(() => Policies.Current.Sha256);
        if (policyFile is not null)
        {
            Reloader = new PolicyReloader(policyFile, Policies, Compile, log, PollInterval);
        }
    }


    /// <summary>What SIGHUP does: a reload of the policy file; false when there is no file to reload.</summary>
    public bool HangUp()
    {
        Reloader?.Trigger();
        return Reloader is not null;
    }

    /// <summary>The policy the server decides through.</summary>
    public PolicyHolder Policies { get; }

    /// <summary>The file reloader, or null without a policy file.</summary>
    public PolicyReloader? Reloader { get; }

    /// <summary>
    /// Compiles a policy file that passed the verify rules: its default allowlist and every role, from the tokens
    /// parsed when it was read (never parsed twice), on the start-up policy's configuration and recorder.
    /// </summary>
    /// <exception cref="InvalidOperationException">A role matches by subject and the listener does not verify client certificates.</exception>
    public (EgressPolicy Policy, RoleTable? Roles) Compile(RoleFileContent content)
    {
        ArgumentNullException.ThrowIfNull(content);
        if (!content.HasRoles)
        {
            return (_basis.WithTokens(content.Default), null);
        }

        var roles = RoleTable.Build(_basis, content);
        if (roles.MatchesSubjects && !_verifiesClientCertificates)
        {
            var role = content.Roles.First(r => !r.Subjects.IsEmpty);
            throw new InvalidOperationException($"role '{role.Name}' matches TLS client-certificate subjects (line {role.Subjects[0].Line}), but the listener does not verify client certificates: serve TLS with --tls-cert, --tls-key and --client-ca");
        }

        return (roles.Default, roles);
    }

    /// <summary>The <c>/healthz</c> detail: <c>sha256=…</c> of the policy enforced now.</summary>
    public string HealthDetail() => "sha256=" + Policies.Current.Sha256;

    /// <summary>SHA-256 of an environment allowlist (sorted, one token a line), so <c>/healthz</c> names it too.</summary>
    public static string Sha256Of(EgressPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var text = string.Join('\n', policy.Options.Allowlist.Distinct().Order(StringComparer.Ordinal));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Reloader?.Dispose();
    }
}

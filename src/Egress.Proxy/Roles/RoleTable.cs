using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Egress.Policy;
using Egress.Policy.Roles;

namespace Egress.Proxy.Roles;

/// <summary>
/// The roles of one policy generation, compiled: one <see cref="EgressPolicy"/> per role (sharing the
/// recorder, so counters, journal and metrics see every role) and the default policy for clients no role
/// matches. Swapped whole on reload with the rest of the snapshot. Which role a request gets:
/// <list type="number">
/// <item>a <c>Proxy-Authorization</c> header, when the file has <c>match user</c> lines, must name a known user
/// with the right password, else the request gets 407 (never the default role);</item>
/// <item>then the first of: the verified TLS client-certificate subject, the authenticated user, the client's
/// source network, in that order (stronger identity first);</item>
/// <item>else the default role.</item>
/// </list>
/// A file never lets one identity match two roles (<see cref="RoleFile"/> rejects it), so within a kind there
/// is no order to define.
/// </summary>
public sealed class RoleTable
{
    private readonly FrozenDictionary<string, (RoleUser User, RoleEntry Role)> _users;
    private readonly FrozenDictionary<string, RoleEntry> _subjects;
    private readonly ImmutableArray<(IPNetwork Network, RoleEntry Role)> _sources;
    private readonly RoleEntry _default;

    private RoleTable(RoleEntry defaultRole, ImmutableArray<RoleEntry> roles, FrozenDictionary<string, (RoleUser, RoleEntry)> users, FrozenDictionary<string, RoleEntry> subjects, ImmutableArray<(IPNetwork, RoleEntry)> sources)
    {
        _default = defaultRole;
        Roles = roles;
        _users = users;
        _subjects = subjects;
        _sources = sources;
    }

    /// <summary>The default role's policy (clients no role matches).</summary>
    public EgressPolicy Default => _default.Policy;

    /// <summary>The roles, in file order (the default not included).</summary>
    public ImmutableArray<RoleEntry> Roles { get; }

    /// <summary>Whether any role matches by TLS client-certificate subject (needs <c>--client-ca</c>).</summary>
    public bool MatchesSubjects => _subjects.Count > 0;

    /// <summary>Whether any role matches by user (a <c>Proxy-Authorization</c> header is then always checked).</summary>
    public bool MatchesUsers => _users.Count > 0;

    /// <summary>
    /// Compiles <paramref name="content"/> (a file without problems) on top of <paramref name="basis"/>'s
    /// configuration and recorder: each allowlist from its already parsed tokens, never parsed twice.
    /// </summary>
    public static RoleTable Build(EgressPolicy basis, RoleFileContent content)
    {
        ArgumentNullException.ThrowIfNull(basis);
        ArgumentNullException.ThrowIfNull(content);
        if (!content.Problems.IsEmpty)
        {
            throw new ArgumentException("a policy file with problems is never compiled", nameof(content));
        }

        var defaultRole = new RoleEntry(RoleFile.DefaultRole, basis.WithTokens(content.Default), null);
        var roles = ImmutableArray.CreateBuilder<RoleEntry>(content.Roles.Length);
        var users = new Dictionary<string, (RoleUser, RoleEntry)>(StringComparer.Ordinal);
        var subjects = new Dictionary<string, RoleEntry>(StringComparer.Ordinal);
        var sources = ImmutableArray.CreateBuilder<(IPNetwork, RoleEntry)>();
        foreach (var definition in content.Roles)
        {
            var entry = new RoleEntry(definition.Name, basis.WithTokens(definition.Tokens), definition);
            roles.Add(entry);
            foreach (var user in definition.Users)
            {
                users[user.Name] = (user, entry);
            }

            foreach (var subject in definition.Subjects)
            {
                subjects[subject.Name] = entry;
            }

            foreach (var source in definition.Sources)
            {
                sources.Add((source.Network, entry));
            }
        }

        return new RoleTable(defaultRole, roles.ToImmutable(), users.ToFrozenDictionary(StringComparer.Ordinal), subjects.ToFrozenDictionary(StringComparer.Ordinal), sources.ToImmutable());
    }

    /// <summary>The role for a request from <paramref name="client"/> carrying <paramref name="proxyAuthorization"/> (null when absent).</summary>
    /// <param name="client">The connection's identity.</param>
    /// <param name="proxyAuthorization">The <c>Proxy-Authorization</c> value, or null.</param>
    /// <param name="source">The event source (<c>proxy</c>).</param>
    public RoleAssignment Resolve(ClientIdentity client, string? proxyAuthorization, string source)
    {
        ArgumentNullException.ThrowIfNull(client);
        string? address = client.Address?.ToString();
        RoleEntry? byUser = null;
        string? userName = null;
        if (proxyAuthorization is not null && MatchesUsers)
        {
            if (!BasicCredentials.TryParse(proxyAuthorization, out var user, out var password))
            {
                return Refuse(source, address, "Proxy-Authorization must be Basic with user:password");
            }

            // The password's hash is compared in constant time, and computed for unknown users too.
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(password));
            bool known = _users.TryGetValue(user, out var found);
            bool match = known && CryptographicOperations.FixedTimeEquals(hash, found.User.PasswordSha256.AsSpan());
            if (!match)
            {
                return Refuse(source, address, "unknown user or wrong password");
            }

            byUser = found.Role;
            userName = user;
        }

        RoleEntry role = (client.CertificateSubject is { } subject && _subjects.TryGetValue(subject, out var bySubject) ? bySubject : null)
            ?? byUser
            ?? BySource(client.Address)
            ?? _default;
        string? who = userName is null ? address : $"{userName}@{address ?? "?"}";
        return new RoleAssignment(role.Policy, new DecisionContext(source) { Client = who, Role = role.Name }, null);
    }

    // A linear scan: policy files hold few networks per gateway, and a scan over a flat array beats a trie below a few hundred.
    private RoleEntry? BySource(IPAddress? address)
    {
        if (address is null)
        {
            return null;
        }

        foreach (var (network, role) in _sources)
        {
            if (network.Contains(address))
            {
                return role;
            }
        }

        return null;
    }

    private static RoleAssignment Refuse(string source, string? address, string why)
        => new(null, new DecisionContext(source) { Client = address }, why);
}

using System.Collections.Immutable;
using System.Text;
using Egress.Policy.Roles;

namespace Egress.Export;

/// <summary>
/// Exports a policy file with <c>[role]</c> sections as one object set per role (<c>--role-label KEY</c>): each
/// role's objects select workloads labelled <c>KEY=ROLE</c> (plus <c>--selector</c>), the default role's select
/// the workloads whose <c>KEY</c> names no role (Cilium: a <c>NotIn</c> expression; Istio: the namespace's
/// default Sidecar, which applies only where no role's Sidecar does). Each set is exported by the ordinary
/// pipeline, so every rule of <see cref="PolicyExport"/> holds per role: never wider than that role's section.
/// Only targets with workload selectors can do this (cilium, istio).
/// </summary>
public static class RoleExport
{
    /// <summary>Targets that can select workloads per role.</summary>
    public static readonly ImmutableArray<string> Targets = ["cilium", "istio"];

    /// <summary>Exports <paramref name="content"/> (a file without problems) for <paramref name="exporter"/>, one object set per role.</summary>
    public static ExportResult Run(PolicyExporter exporter, RoleFileContent content, ExportOptions options, string roleLabel)
    {
        ArgumentNullException.ThrowIfNull(exporter);
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(roleLabel);
        if (!Targets.Contains(exporter.Name))
        {
            return Fail("--role-label", $"{exporter.Name} cannot select workloads per role; per-role objects exist for {string.Join(" and ", Targets)}");
        }

        if (exporter.Name == "istio" && !options.Selector.IsEmpty)
        {
            return Fail("--selector", "istio: a workload selected by --selector and a role label would match two Sidecars (Istio then picks one arbitrarily); per-role istio exports select by the role label alone");
        }

        if (options.Selector.ContainsKey(roleLabel))
        {
            return Fail("--selector", $"--selector already sets the role label '{roleLabel}'");
        }

        if (exporter.Name == "istio" && IstioPortConflicts(content) is { } conflict)
        {
            return Fail(conflict.Host, conflict.Why);
        }

        var names = content.Roles.Select(r => r.Name).ToImmutableArray();
        var parts = new List<(string Role, ExportResult Result)>
        {
            (RoleFile.DefaultRole, PolicyExport.Run(exporter, content.Default, options with { Name = options.Name + "-" + RoleFile.DefaultRole, RoleLabel = roleLabel, OtherRoles = names, SidecarListsHosts = true })),
        };
        foreach (var role in content.Roles)
        {
            parts.Add((role.Name, PolicyExport.Run(exporter, role.Tokens, options with { Name = options.Name + "-" + role.Name, Selector = options.Selector.SetItem(roleLabel, role.Name), SidecarListsHosts = true })));
        }

        var errors = parts.SelectMany(p => p.Result.Errors.Select(e => e with { Token = $"{p.Role}: {e.Token}" })).ToImmutableArray();
        if (!errors.IsEmpty)
        {
            return new ExportResult { Errors = errors };
        }

        var text = new StringBuilder();
        foreach (var (role, result) in parts)
        {
            text.Append("# --- role ").Append(role).Append(role == RoleFile.DefaultRole ? $" (workloads whose label {roleLabel} names no role)" : $" (workloads labelled {roleLabel}={role})").Append(" ---\n");
            text.Append(result.Text);
        }

        return new ExportResult
        {
            Text = text.ToString(),
            Dropped = [.. parts.SelectMany(p => p.Result.Dropped.Select(d => d with { Token = $"{p.Role}: {d.Token}" }))],
            Notes = [.. parts.SelectMany(p => p.Result.Notes.Select(n => $"{p.Role}: {n}"))],
        };
    }

    // One namespace holds every role's ServiceEntries; a Sidecar importing a host imports every port any of them
    // declares for it, so a host must have the same ports in every role that names it.
    private static (string Host, string Why)? IstioPortConflicts(RoleFileContent content)
    {
        var sections = new[] { (Name: RoleFile.DefaultRole, Tokens: content.Default) }.Concat(content.Roles.Select(r => (r.Name, r.Tokens)));
        var ports = new Dictionary<string, (string Role, string Ports)>(StringComparer.Ordinal);
        foreach (var (name, tokens) in sections)
        {
            foreach (var group in tokens.GroupBy(t => t.Network is { } n ? n.ToString() : t.Value))
            {
                string set = string.Join(',', group.Select(t => t.Port).Distinct().Order());
                if (ports.TryGetValue(group.Key, out var seen) && seen.Ports != set)
                {
                    return (group.Key, $"istio: roles '{seen.Role}' and '{name}' allow {group.Key} on different ports ({seen.Ports} and {set}); their ServiceEntries share the namespace, so a Sidecar importing the host would get both; give it the same ports in both roles, or use the gateway");
                }

                ports.TryAdd(group.Key, (name, set));
            }
        }

        return null;
    }

    private static ExportResult Fail(string what, string why) => new() { Errors = [new ExportIssue(what, why)] };
}

using System.Collections.Immutable;

namespace Egress.Export;

/// <summary>How one export runs (the flags of <c>egress-policy export</c>).</summary>
public sealed record ExportOptions
{
    /// <summary>Drop the tokens the target cannot express exactly (narrower) instead of failing.</summary>
    public bool Lossy { get; init; }

    /// <summary>
    /// For targets that need a port on every rule: the ports a port-less token (which allows every port)
    /// is narrowed to. Empty: such a token cannot be expressed.
    /// </summary>
    public ImmutableArray<int> Ports { get; init; } = [];

    /// <summary>
    /// Accept that the target cannot refuse a name under a domain token that resolves to a
    /// special-purpose address (loopback, private, link-local, cloud metadata), which the proxy refuses.
    /// </summary>
    public bool UnguardedDomains { get; init; }

    /// <summary>Name of the generated objects (Kubernetes <c>metadata.name</c>, Squid ACL prefix).</summary>
    public string Name { get; init; } = ExportDefaults.Name;

    /// <summary>Kubernetes namespace of the generated objects, or <see langword="null"/> for none.</summary>
    public string? Namespace { get; init; }

    /// <summary>Labels selecting the workloads the policy applies to (empty: every pod of the namespace).</summary>
    public ImmutableSortedDictionary<string, string> Selector { get; init; } = ImmutableSortedDictionary<string, string>.Empty;

    /// <summary>
    /// Per-role export (<c>--role-label</c>): the workload label whose value names a gateway role. Set on the default
    /// role's objects together with <see cref="OtherRoles"/>, so they select only workloads of no listed role.
    /// </summary>
    public string? RoleLabel { get; init; }

    /// <summary>With <see cref="RoleLabel"/>: the roles whose workloads the objects must not select (<c>NotIn</c>).</summary>
    public ImmutableArray<string> OtherRoles { get; init; } = [];

    /// <summary>Istio: the Sidecar imports only this export's own hosts instead of every ServiceEntry of the namespace (per-role exports).</summary>
    public bool SidecarListsHosts { get; init; }

    /// <summary>Where the tokens came from (a lock file path or the environment variable), written in the header.</summary>
    public string Source { get; init; } = "(unknown)";

    /// <summary>SHA-256 (hex) of the source, written in the header and as an annotation.</summary>
    public string? SourceSha256 { get; init; }
}

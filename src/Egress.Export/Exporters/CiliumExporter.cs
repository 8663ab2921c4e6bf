using System.Globalization;
using Egress.Export.Addressing;
using Egress.Export.Yaml;
using Egress.Policy.Destinations;
using Egress.Policy.Tokens;

namespace Egress.Export.Exporters;

/// <summary>
/// A <c>CiliumNetworkPolicy</c> (cilium.io/v2): <c>toFQDNs</c> for host tokens with the DNS rule the
/// DNS proxy needs (limited to the same names), <c>toCIDR</c> for IP tokens, TCP ports (a port-less
/// token is the range 1–65535/TCP: the proxy carries TCP only). Names under domain tokens must not
/// reach special-purpose ranges the lock does not name: an <c>egressDeny</c> rule holds them (Cilium
/// CIDR rules never select in-cluster endpoints, so kube-dns and pods are unaffected).
/// </summary>
public sealed class CiliumExporter : PolicyExporter
{
    /// <summary>How many labels below a domain token the <c>matchPattern</c>s reach (Cilium's <c>*</c> stops at a dot).</summary>
    public const int SubdomainDepth = 3;

    /// <inheritdoc />
    public override string Name => "cilium";

    /// <inheritdoc />
    public override string Description => "CiliumNetworkPolicy: toFQDNs + DNS rule, toCIDR, TCP ports, egressDeny for special-purpose ranges";

    /// <inheritdoc />
    public override bool GuardsSpecialPurpose => true;

    /// <inheritdoc />
    public override string? Refuse(ExportEntry entry, IReadOnlyList<ExportEntry> all)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(all);
        if (entry.Kind == EgressTokenKind.IPNetwork && entry.Port != 0 && all.Any(e => e.Kind == EgressTokenKind.Domain)
            && SpecialPurposeAddresses.All.Any(r => NetworkMath.Overlaps(r.Network, entry.Token.Network!.Value)))
        {
            return "a port-limited IP token inside a special-purpose range: the egressDeny rule that keeps names under the domain tokens out of that range "
                + "would also deny this token (Cilium deny rules override allows); write it without a port, or drop it with --lossy";
        }

        return null;
    }

    /// <inheritdoc />
    public override string? NarrowingOf(ExportEntry entry, IReadOnlyList<ExportEntry> all)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(all);
        return entry.Kind switch
        {
            EgressTokenKind.Domain => $"'{entry.Token.Text}': Cilium's matchPattern '*' stops at a dot, so subdomains deeper than {SubdomainDepth} labels below {entry.Host} are denied",
            EgressTokenKind.ExactHost when all.Any(e => e.Kind == EgressTokenKind.Domain)
                => $"'{entry.Token.Text}': the egressDeny rule also applies to it, so it cannot reach a special-purpose address the lock does not name with an IP token (the proxy would allow that)",
            _ => null,
        };
    }

    /// <inheritdoc />
    public override string Render(ExportPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var egress = new YamlSequence();
        var names = plan.Entries.Where(e => e.Kind is EgressTokenKind.Domain or EgressTokenKind.ExactHost).ToList();
        if (names.Count > 0)
        {
            egress.Add(DnsRule(names));
        }

        foreach (var port in plan.Ports)
        {
            var atPort = plan.Entries.Where(e => e.Port == port).ToList();
            var fqdns = Selectors(atPort.Where(e => e.Kind is EgressTokenKind.Domain or EgressTokenKind.ExactHost));
            if (fqdns.Items.Count > 0)
            {
                egress.Add(new YamlMapping().Add("toFQDNs", fqdns).Add("toPorts", Ports(port)));
            }

            var cidrs = atPort.Where(e => e.Kind == EgressTokenKind.IPNetwork).Select(e => NetworkMath.Cidr(e.Token.Network!.Value)).Distinct().ToList();
            if (cidrs.Count > 0)
            {
                egress.Add(new YamlMapping().Add("toCIDR", YamlNode.Strings(cidrs)).Add("toPorts", Ports(port)));
            }
        }

        var spec = new YamlMapping()
            .Add("endpointSelector", KubernetesObjects.Selector(plan))
            // Default deny even when --lossy dropped every rule: an empty allowlist must not become "allow all".
            .Add("enableDefaultDeny", new YamlMapping().Add("egress", YamlNode.Bool(true)).Add("ingress", YamlNode.Bool(false)))
            .Add("egress", egress);
        if (plan.HasDomains && plan.GuardedRanges(0) is { Count: > 0 } guarded)
        {
            spec.Add("egressDeny", new YamlSequence().Add(new YamlMapping().Add("toCIDR", YamlNode.Strings(guarded.Select(NetworkMath.Cidr)))));
        }

        var policy = new YamlMapping()
            .Add("apiVersion", "cilium.io/v2")
            .Add("kind", "CiliumNetworkPolicy")
            .Add("metadata", KubernetesObjects.Metadata(plan))
            .Add("spec", spec);
        return KubernetesObjects.Stream(plan, Name, [policy]);
    }

    private static YamlMapping DnsRule(List<ExportEntry> names)
    {
        var dns = new YamlMapping().Add("ports", new YamlSequence().Add(new YamlMapping().Add("port", "53").Add("protocol", "ANY")))
            .Add("rules", new YamlMapping().Add("dns", Selectors(names)));
        var kubeDns = new YamlMapping().Add("matchLabels", new YamlMapping()
            .Add("k8s:io.kubernetes.pod.namespace", "kube-system")
            .Add("k8s:k8s-app", "kube-dns"));
        return new YamlMapping().Add("toEndpoints", new YamlSequence().Add(kubeDns)).Add("toPorts", new YamlSequence().Add(dns));
    }

    /// <summary>matchName / matchPattern selectors for host entries, without duplicates.</summary>
    private static YamlSequence Selectors(IEnumerable<ExportEntry> entries)
    {
        var seq = new YamlSequence();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in entries.OrderBy(e => e.Host, StringComparer.Ordinal))
        {
            if (seen.Add("n:" + e.Host))
            {
                seq.Add(new YamlMapping().Add("matchName", e.Host));
            }

            if (e.Kind != EgressTokenKind.Domain)
            {
                continue;
            }

            var pattern = e.Host;
            for (int depth = 1; depth <= SubdomainDepth; depth++)
            {
                pattern = "*." + pattern;
                if (seen.Add("p:" + pattern))
                {
                    seq.Add(new YamlMapping().Add("matchPattern", pattern));
                }
            }
        }

        return seq;
    }

    private static YamlSequence Ports(int port)
    {
        var spec = new YamlMapping();
        if (port == 0)
        {
            spec.Add("port", "1").Add("endPort", YamlNode.Number(65535));
        }
        else
        {
            spec.Add("port", port.ToString(CultureInfo.InvariantCulture));
        }

        spec.Add("protocol", "TCP");
        return new YamlSequence().Add(new YamlMapping().Add("ports", new YamlSequence().Add(spec)));
    }
}

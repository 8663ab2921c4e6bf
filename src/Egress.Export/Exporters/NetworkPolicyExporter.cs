using Egress.Export.Addressing;
using Egress.Export.Yaml;
using Egress.Policy.Tokens;

namespace Egress.Export.Exporters;

/// <summary>
/// A Kubernetes <c>NetworkPolicy</c> (networking.k8s.io/v1, <c>policyTypes: [Egress]</c>): one
/// <c>ipBlock</c> rule per IP token and port, TCP (a port-less token is every TCP port), plus DNS to
/// kube-dns (UDP and TCP 53). NetworkPolicy matches addresses only, so host tokens cannot be expressed.
/// </summary>
public sealed class NetworkPolicyExporter : PolicyExporter
{
    /// <inheritdoc />
    public override string Name => "networkpolicy";

    /// <inheritdoc />
    public override string Description => "Kubernetes NetworkPolicy: ipBlock rules for IP/CIDR tokens (TCP) + DNS to kube-dns";

    // No name is ever exported, so no name can resolve anywhere.
    /// <inheritdoc />
    public override bool GuardsSpecialPurpose => true;

    /// <inheritdoc />
    public override string? Refuse(ExportEntry entry, IReadOnlyList<ExportEntry> all)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.Kind == EgressTokenKind.IPNetwork
            ? null
            : $"a NetworkPolicy matches IP addresses only, never a host name ({KindName(entry.Kind)} token); use the cilium or istio export, or route this workload through the gateway";
    }

    /// <inheritdoc />
    public override string Render(ExportPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var egress = new YamlSequence();
        var kubeDns = new YamlMapping()
            .Add("namespaceSelector", new YamlMapping().Add("matchLabels", new YamlMapping().Add("kubernetes.io/metadata.name", "kube-system")))
            .Add("podSelector", new YamlMapping().Add("matchLabels", new YamlMapping().Add("k8s-app", "kube-dns")));
        egress.Add(new YamlMapping()
            .Add("to", new YamlSequence().Add(kubeDns))
            .Add("ports", new YamlSequence()
                .Add(new YamlMapping().Add("protocol", "UDP").Add("port", YamlNode.Number(53)))
                .Add(new YamlMapping().Add("protocol", "TCP").Add("port", YamlNode.Number(53)))));
        foreach (var port in plan.Ports)
        {
            var cidrs = plan.Entries.Where(e => e.Port == port).Select(e => NetworkMath.Cidr(e.Token.Network!.Value)).Distinct().ToList();
            if (cidrs.Count == 0)
            {
                continue;
            }

            var portSpec = new YamlMapping().Add("protocol", "TCP");
            if (port != 0)
            {
                portSpec.Add("port", YamlNode.Number(port));
            }

            egress.Add(new YamlMapping()
                .Add("to", new YamlSequence(cidrs.Select(c => (YamlNode)new YamlMapping().Add("ipBlock", new YamlMapping().Add("cidr", c)))))
                .Add("ports", new YamlSequence().Add(portSpec)));
        }

        var policy = new YamlMapping()
            .Add("apiVersion", "networking.k8s.io/v1")
            .Add("kind", "NetworkPolicy")
            .Add("metadata", KubernetesObjects.Metadata(plan))
            .Add("spec", new YamlMapping()
                .Add("podSelector", new YamlMapping().Add("matchLabels", KubernetesObjects.MatchLabels(plan)))
                .Add("policyTypes", YamlNode.Strings(["Egress"]))
                .Add("egress", egress));
        return KubernetesObjects.Stream(plan, Name, [policy]);
    }
}

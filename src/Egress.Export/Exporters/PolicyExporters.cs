namespace Egress.Export.Exporters;

/// <summary>Every exporter, by <c>--format</c> name.</summary>
public static class PolicyExporters
{
    /// <summary>The exporters, in the order <c>--help</c> lists them.</summary>
    public static IReadOnlyList<PolicyExporter> All { get; } =
    [
        new SquidExporter(),
        new CiliumExporter(),
        new IstioExporter(),
        new NetworkPolicyExporter(),
        new HardenRunnerExporter(),
        new SandboxRuntimeExporter(),
    ];

    /// <summary>The exporter named <paramref name="name"/> (case-insensitive), or <see langword="null"/>.</summary>
    public static PolicyExporter? Find(string? name)
        => All.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase));
}

using System.Globalization;
using System.Text;
using Egress.Policy.Tokens;

namespace Egress.Export.Exporters;

/// <summary>
/// StepSecurity harden-runner's <c>with:</c> block (<c>egress-policy: block</c>, <c>allowed-endpoints</c>
/// of <c>host:port</c>). Domain tokens are <c>host:port</c> plus <c>*.host:port</c>; every endpoint names
/// its port; IP tokens cannot be expressed (endpoints are names). harden-runner does not refuse a name
/// that resolves to a special-purpose address, so domain tokens need <c>--unguarded-domains</c>.
/// </summary>
public sealed class HardenRunnerExporter : PolicyExporter
{
    /// <inheritdoc />
    public override string Name => "harden-runner";

    /// <inheritdoc />
    public override string Description => "step-security/harden-runner with: block (egress-policy: block, allowed-endpoints host:port)";

    /// <inheritdoc />
    public override bool RequiresPort => true;

    /// <inheritdoc />
    public override string? Refuse(ExportEntry entry, IReadOnlyList<ExportEntry> all)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.Kind == EgressTokenKind.IPNetwork
            ? "harden-runner's allowed-endpoints are host names with ports; an IP/CIDR token has no equivalent"
            : null;
    }

    /// <inheritdoc />
    public override string? NarrowingOf(ExportEntry entry, IReadOnlyList<ExportEntry> all)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return entry.Kind == EgressTokenKind.Domain
            ? $"'{entry.Token.Text}': exported as {entry.Host} and *.{entry.Host}; harden-runner's wildcard decides how deep '*' reaches"
            : null;
    }

    /// <inheritdoc />
    public override string Render(ExportPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var endpoints = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var e in plan.Entries)
        {
            string port = e.Port.ToString(CultureInfo.InvariantCulture);
            endpoints.Add($"{e.Host}:{port}");
            if (e.Kind == EgressTokenKind.Domain)
            {
                endpoints.Add($"*.{e.Host}:{port}");
            }
        }

        var sb = new StringBuilder().Comments(plan.HeaderLines(Name))
            .Append("# A step for the start of each job; pin the action to a full commit SHA.\n")
            .Append("- name: \"Harden runner (egress allowlist from the lock)\"\n")
            .Append("  uses: \"step-security/harden-runner@PIN-A-COMMIT-SHA\"\n")
            .Append("  with:\n")
            .Append("    \"egress-policy\": \"block\"\n")
            .Append("    \"allowed-endpoints\": ");
        // Endpoints are host:port of canonical ASCII names: nothing in them needs quoting inside a YAML string.
        sb.Append(Yaml.YamlScalar.Quote(string.Join(' ', endpoints))).Append('\n');
        return sb.ToString();
    }
}

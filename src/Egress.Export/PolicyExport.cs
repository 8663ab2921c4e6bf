using System.Collections.Immutable;
using Egress.Policy.Tokens;

namespace Egress.Export;

/// <summary>
/// Runs an export: the rules every target shares (keywords are never expressible, port-less tokens on
/// targets that need ports, the special-purpose guard), then the target's own limits, then
/// <c>--lossy</c> (drop, never widen) or failure naming every token at fault.
/// </summary>
public static class PolicyExport
{
    /// <summary>Exports <paramref name="tokens"/> (already parsed and valid) for <paramref name="exporter"/>.</summary>
    public static ExportResult Run(PolicyExporter exporter, IReadOnlyList<EgressToken> tokens, ExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(exporter);
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(options);
        var issues = new List<ExportIssue>();
        var notes = new List<string>();
        var entries = new List<ExportEntry>();
        foreach (var token in tokens.DistinctBy(t => t.Text))
        {
            if (Common(exporter, token, options) is { } reason)
            {
                issues.Add(new ExportIssue(token.Text, reason));
                continue;
            }

            if (token.Port == 0 && exporter.RequiresPort)
            {
                entries.AddRange(options.Ports.Distinct().Order().Select(p => new ExportEntry(token, p)));
                notes.Add($"'{token.Text}' allows every port; {exporter.Name} needs ports, narrowed to {string.Join(',', options.Ports.Distinct().Order())} (--ports)");
            }
            else
            {
                entries.Add(new ExportEntry(token, token.Port));
            }

            if (token.Kind == EgressTokenKind.Domain && !exporter.GuardsSpecialPurpose)
            {
                notes.Add($"'{token.Text}': {exporter.Name} does not refuse a name that resolves to a special-purpose address (--unguarded-domains accepted this; the proxy refuses it)");
            }
        }

        // Target limits, judged against every entry so that limits that depend on the others (e.g. a deny
        // rule another token needs) are seen whole.
        var snapshot = entries.ToList();
        var refusedTokens = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in snapshot)
        {
            if (exporter.Refuse(entry, snapshot) is { } reason && refusedTokens.Add(entry.Token.Text))
            {
                issues.Add(new ExportIssue(entry.Token.Text, reason));
            }
        }

        entries.RemoveAll(e => refusedTokens.Contains(e.Token.Text));
        notes.AddRange(entries.Select(e => exporter.NarrowingOf(e, entries)).OfType<string>().Distinct());
        notes.RemoveAll(n => refusedTokens.Any(t => n.StartsWith($"'{t}'", StringComparison.Ordinal)));
        if (issues.Count > 0 && !options.Lossy)
        {
            return new ExportResult { Errors = [.. issues] };
        }

        var plan = new ExportPlan([.. entries], options, [.. issues], [.. notes]);
        return new ExportResult { Text = exporter.Render(plan), Dropped = [.. issues], Notes = [.. notes] };
    }

    private static string? Common(PolicyExporter exporter, EgressToken token, ExportOptions options)
    {
        if (token.Kind == EgressTokenKind.Keyword)
        {
            return $"a keyword matches every host containing '{token.Value}'; {exporter.Name} has no substring match over canonical host names (name the domain instead, e.g. '{token.Value}.com')";
        }

        if (token.Port == 0 && exporter.RequiresPort && options.Ports.IsEmpty)
        {
            return $"a token without a port allows every port; every {exporter.Name} rule names its ports (write '{token.Text}:443', or give --ports to narrow)";
        }

        if (token.Kind == EgressTokenKind.Domain && !exporter.GuardsSpecialPurpose && !options.UnguardedDomains)
        {
            return $"{exporter.Name} cannot refuse a name under '{token.Value}' that resolves to a special-purpose address (loopback, private, link-local, cloud metadata), which the proxy refuses; use the gateway or cilium/squid, or accept it with --unguarded-domains";
        }

        return null;
    }
}

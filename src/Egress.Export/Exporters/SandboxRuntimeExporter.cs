using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Egress.Export.Addressing;
using Egress.Policy.Tokens;

namespace Egress.Export.Exporters;

/// <summary>
/// sandbox-runtime (<c>srt</c>) settings JSON: <c>network.allowedDomains</c> with <c>strictAllowlist</c>.
/// Its patterns are exact names and <c>*.name</c> (every subdomain, not the name itself), each with an
/// optional <c>:port</c>; a single IP address is its literal (IPv6 in brackets). CIDR networks and
/// single-label names other than <c>localhost</c> cannot be expressed. JSON has no comments: what was
/// dropped or narrowed is printed on stderr only.
/// </summary>
public sealed class SandboxRuntimeExporter : PolicyExporter
{
    /// <inheritdoc />
    public override string Name => "sandbox-runtime";

    /// <inheritdoc />
    public override string Description => "sandbox-runtime (srt) settings JSON: network.allowedDomains, strictAllowlist";

    /// <inheritdoc />
    public override string? Refuse(ExportEntry entry, IReadOnlyList<ExportEntry> all)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Kind == EgressTokenKind.IPNetwork && !NetworkMath.IsSingleAddress(entry.Token.Network!.Value))
        {
            return "sandbox-runtime allowedDomains match names and single addresses, not networks";
        }

        if (entry.Kind is EgressTokenKind.Domain or EgressTokenKind.ExactHost && !entry.Host.Contains('.') && entry.Host != "localhost")
        {
            return "sandbox-runtime rejects a single-label name other than localhost";
        }

        return null;
    }

    /// <inheritdoc />
    public override string Render(ExportPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var patterns = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var e in plan.Entries)
        {
            string port = e.Port == 0 ? "" : ":" + e.Port.ToString(CultureInfo.InvariantCulture);
            if (e.Kind == EgressTokenKind.IPNetwork)
            {
                var address = e.Token.Network!.Value.BaseAddress;
                patterns.Add((address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{NetworkMath.Format(address)}]" : address.ToString()) + port);
                continue;
            }

            patterns.Add(e.Host + port);
            if (e.Kind == EgressTokenKind.Domain)
            {
                patterns.Add("*." + e.Host + port);
            }
        }

        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartObject("network");
            json.WriteStartArray("allowedDomains");
            foreach (var p in patterns)
            {
                json.WriteStringValue(p);
            }

            json.WriteEndArray();
            json.WriteStartArray("deniedDomains");
            json.WriteEndArray();
            json.WriteBoolean("strictAllowlist", true);
            json.WriteEndObject();
            json.WriteStartObject("filesystem");
            foreach (var key in new[] { "denyRead", "allowWrite", "denyWrite" })
            {
                json.WriteStartArray(key);
                json.WriteEndArray();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}

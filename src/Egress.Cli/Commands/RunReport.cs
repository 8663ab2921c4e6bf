using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Egress.Policy.Events;

namespace Egress.Cli.Commands;

/// <summary>What <c>run</c> prints when the command exits: hosts allowed, denied and (audit) would-be denied, and whether the command was isolated.</summary>
internal sealed record RunReport(int ExitCode, bool Enforce, string Isolation, IReadOnlyList<HostCount> Allowed, IReadOnlyList<HostCount> Denied, IReadOnlyList<HostCount> WouldDeny, long DeniedTotal)
{
    private const int MaxListed = 20;

    public string ToText(string command)
    {
        var sb = new StringBuilder();
        long allowed = Allowed.Sum(h => h.Occurrences);
        long would = WouldDeny.Sum(h => h.Occurrences);
        sb.Append(CultureInfo.InvariantCulture, $"egress-policy run: {Path.GetFileName(command)} exited {ExitCode}; {allowed} allowed, {DeniedTotal} denied");
        if (!Enforce)
        {
            sb.Append(CultureInfo.InvariantCulture, $", {would} would be denied (audit mode)");
        }

        sb.Append('\n');
        if (Isolation == "none")
        {
            sb.Append("  WARNING: ").Append(RunIsolationReader.NotIsolatedWarning).Append('\n');
        }

        Line(sb, "allowed", Allowed);
        Line(sb, "denied", Denied);
        Line(sb, "would deny", WouldDeny);
        return sb.ToString();
    }

    public string ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("exit_code", ExitCode);
            w.WriteBoolean("enforce", Enforce);
            w.WriteString("isolation", Isolation);
            w.WriteBoolean("isolated", Isolation != "none");
            Hosts(w, "allowed", Allowed);
            Hosts(w, "denied", Denied);
            Hosts(w, "would_deny", WouldDeny);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }

    private static void Line(StringBuilder sb, string label, IReadOnlyList<HostCount> hosts)
    {
        if (hosts.Count == 0)
        {
            return;
        }

        sb.Append("  ").Append(label).Append(": ");
        sb.AppendJoin(", ", hosts.Take(MaxListed).Select(h => string.Create(CultureInfo.InvariantCulture, $"{h.Host} ({h.Occurrences})")));
        if (hosts.Count > MaxListed)
        {
            sb.Append(CultureInfo.InvariantCulture, $", … {hosts.Count - MaxListed} more");
        }

        sb.Append('\n');
    }

    private static void Hosts(Utf8JsonWriter w, string name, IReadOnlyList<HostCount> hosts)
    {
        w.WriteStartArray(name);
        foreach (var h in hosts)
        {
            w.WriteStartObject();
            w.WriteString("host", h.Host);
            w.WriteNumber("occurrences", h.Occurrences);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }
}

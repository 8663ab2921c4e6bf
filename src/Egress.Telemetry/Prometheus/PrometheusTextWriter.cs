using System.Globalization;
using System.Text;

namespace Egress.Telemetry.Prometheus;

/// <summary>Writes aggregated instruments in the Prometheus text exposition format, version 0.0.4.</summary>
internal static class PrometheusTextWriter
{
    /// <summary>The Content-Type of the exposition.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static void Write(TextWriter writer, IReadOnlyList<InstrumentAggregator> instruments)
    {
        // Instruments of the same name (e.g. one meter per DI container) form one family; equal label sets are merged.
        foreach (var family in instruments.GroupBy(i => i.Name, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var first = family.First();
            var series = new Dictionary<SeriesKey, (double Value, long[] Buckets, double Sum, long Count)>(SeriesKeyComparer.Instance);
            foreach (var instrument in family.Where(i => i.Kind == first.Kind && i.Bounds.AsSpan().SequenceEqual(first.Bounds)))
            {
                foreach (var s in instrument.Snapshot())
                {
                    if (series.TryGetValue(s.Key, out var known))
                    {
                        for (int b = 0; b < known.Buckets.Length; b++)
                        {
                            known.Buckets[b] += s.Buckets[b];
                        }

                        series[s.Key] = (first.Kind == PrometheusMetricKind.Gauge ? s.Value : known.Value + s.Value, known.Buckets, known.Sum + s.Sum, known.Count + s.Count);
                    }
                    else
                    {
                        series[s.Key] = (s.Value, s.Buckets, s.Sum, s.Count);
                    }
                }
            }

            if (series.Count == 0)
            {
                continue;
            }

            var name = family.Key;
            if (!string.IsNullOrWhiteSpace(first.Instrument.Description))
            {
                writer.Write("# HELP ");
                writer.Write(name);
                writer.Write(' ');
                writer.Write(EscapeHelp(first.Instrument.Description));
                writer.Write('\n');
            }

            writer.Write("# TYPE ");
            writer.Write(name);
            writer.Write(first.Kind switch { PrometheusMetricKind.Counter => " counter\n", PrometheusMetricKind.Histogram => " histogram\n", _ => " gauge\n" });
            foreach (var (key, s) in series.OrderBy(p => Labels(p.Key, null, null), StringComparer.Ordinal))
            {
                if (first.Kind != PrometheusMetricKind.Histogram)
                {
                    Sample(writer, name, Labels(key, null, null), s.Value);
                    continue;
                }

                long cumulative = 0;
                for (int b = 0; b < first.Bounds.Length; b++)
                {
                    cumulative += s.Buckets[b];
                    Sample(writer, name + "_bucket", Labels(key, "le", Number(first.Bounds[b])), cumulative);
                }

                cumulative += s.Buckets[^1];
                Sample(writer, name + "_bucket", Labels(key, "le", "+Inf"), cumulative);
                Sample(writer, name + "_sum", Labels(key, null, null), s.Sum);
                Sample(writer, name + "_count", Labels(key, null, null), s.Count);
            }
        }
    }

    internal static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : double.IsNaN(value) ? "NaN"
        : value.ToString("R", CultureInfo.InvariantCulture);

    private static void Sample(TextWriter writer, string name, string labels, double value)
    {
        writer.Write(name);
        writer.Write(labels);
        writer.Write(' ');
        writer.Write(Number(value));
        writer.Write('\n');
    }

    private static string Labels(SeriesKey key, string? extraName, string? extraValue)
    {
        if (key.Names.Length == 0 && extraName is null)
        {
            return string.Empty;
        }

        var sb = new StringBuilder("{");
        for (int i = 0; i < key.Names.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            sb.Append(PrometheusNaming.LabelName(key.Names[i])).Append("=\"").Append(EscapeLabel(key.Values[i])).Append('"');
        }

        if (extraName is not null)
        {
            if (key.Names.Length > 0)
            {
                sb.Append(',');
            }

            sb.Append(extraName).Append("=\"").Append(extraValue).Append('"');
        }

        return sb.Append('}').ToString();
    }

    private static string EscapeLabel(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string EscapeHelp(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}

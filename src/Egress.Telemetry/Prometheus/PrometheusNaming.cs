using System.Diagnostics.Metrics;
using System.Text;

namespace Egress.Telemetry.Prometheus;

/// <summary>
/// Turns instrument names, units and tag names into Prometheus names the way OpenTelemetry's Prometheus
/// compatibility rules do: invalid characters become <c>_</c>, the unit becomes a suffix (<c>s</c> →
/// <c>_seconds</c>, <c>By</c> → <c>_bytes</c>, annotations in braces are dropped), counters end in <c>_total</c>.
/// </summary>
public static class PrometheusNaming
{
    /// <summary>The metric family name of <paramref name="instrument"/> as it appears in the exposition.</summary>
    public static string MetricName(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        return MetricName(instrument.Name, instrument.Unit, KindOf(instrument));
    }

    /// <summary>The metric family name for an instrument <paramref name="name"/> with <paramref name="unit"/> of <paramref name="kind"/>.</summary>
    public static string MetricName(string name, string? unit, PrometheusMetricKind kind)
    {
        ArgumentNullException.ThrowIfNull(name);
        var result = Sanitize(name, allowColon: true);
        var suffix = UnitSuffix(unit, kind);
        if (suffix.Length > 0 && !result.EndsWith("_" + suffix, StringComparison.Ordinal))
        {
            result += "_" + suffix;
        }

        if (kind == PrometheusMetricKind.Counter && !result.EndsWith("_total", StringComparison.Ordinal))
        {
            result += "_total";
        }

        return result;
    }

    /// <summary>A tag name as a Prometheus label name (<c>server.address</c> → <c>server_address</c>).</summary>
    public static string LabelName(string tag) => Sanitize(tag, allowColon: false);

    /// <summary>How the instrument is exposed: counter (monotonic sums), gauge or histogram.</summary>
    public static PrometheusMetricKind KindOf(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        var type = instrument.GetType();
        if (!type.IsGenericType)
        {
            return PrometheusMetricKind.Gauge;
        }

        var definition = type.GetGenericTypeDefinition();
        if (definition == typeof(Counter<>) || definition == typeof(ObservableCounter<>))
        {
            return PrometheusMetricKind.Counter;
        }

        return definition == typeof(Histogram<>) ? PrometheusMetricKind.Histogram : PrometheusMetricKind.Gauge;
    }

    internal static string UnitSuffix(string? unit, PrometheusMetricKind kind)
    {
        if (string.IsNullOrWhiteSpace(unit))
        {
            return string.Empty;
        }

        // Annotations such as {decision} carry no unit.
        var plain = new StringBuilder();
        int depth = 0;
        foreach (char c in unit)
        {
            if (c == '{')
            {
                depth++;
            }
            else if (c == '}')
            {
                depth = Math.Max(0, depth - 1);
            }
            else if (depth == 0)
            {
                plain.Append(c);
            }
        }

        var text = plain.ToString().Trim();
        if (text.Length == 0)
        {
            return string.Empty;
        }

        if (text == "1")
        {
            return kind == PrometheusMetricKind.Gauge ? "ratio" : string.Empty;
        }

        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0)
        {
            var per = Word(text[(slash + 1)..], singular: true);
            return Sanitize(Word(text[..slash], singular: false) + "_per_" + per, allowColon: false);
        }

        return Sanitize(Word(text, singular: false), allowColon: false);
    }

    private static string Word(string unit, bool singular) => unit switch
    {
        "d" => singular ? "day" : "days",
        "h" => singular ? "hour" : "hours",
        "min" => singular ? "minute" : "minutes",
        "s" => singular ? "second" : "seconds",
        "ms" => singular ? "millisecond" : "milliseconds",
        "us" => singular ? "microsecond" : "microseconds",
        "ns" => singular ? "nanosecond" : "nanoseconds",
        "By" => singular ? "byte" : "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "bit" => singular ? "bit" : "bits",
        "%" => "percent",
        "Hz" => "hertz",
        "Cel" => "celsius",
        _ => unit,
    };

    private static string Sanitize(string name, bool allowColon)
    {
        var sb = new StringBuilder(name.Length + 1);
        foreach (char c in name)
        {
            bool ok = char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':');
            char next = ok ? c : '_';
            if (next == '_' && sb.Length > 0 && sb[^1] == '_')
            {
                continue;
            }

            sb.Append(next);
        }

        if (sb.Length == 0 || char.IsAsciiDigit(sb[0]))
        {
            sb.Insert(0, '_');
        }

        return sb.ToString();
    }
}

using System.Globalization;
using Google.Protobuf;

namespace Egress.Telemetry.Tests;

/// <summary>One decoded data point: attributes, and either a number or a histogram.</summary>
internal sealed record OtlpPoint(Dictionary<string, string> Attributes, double Value, ulong Count, double Sum, ulong[] BucketCounts, double[] Bounds);

/// <summary>One decoded metric with its scope and kind (<c>sum</c>, <c>gauge</c>, <c>histogram</c>).</summary>
internal sealed record OtlpMetric(string Scope, string Name, string Unit, string Kind, bool IsMonotonic, List<OtlpPoint> Points);

/// <summary>A decoded <c>ExportMetricsServiceRequest</c>.</summary>
internal sealed record OtlpExport(Dictionary<string, string> Resource, List<OtlpMetric> Metrics);

/// <summary>
/// Decodes the subset of OTLP (opentelemetry/proto/collector/metrics/v1, metrics/v1, common/v1) the tests check,
/// field by field with <see cref="CodedInputStream"/>.
/// </summary>
internal static class OtlpDecoder
{
    public static OtlpExport Decode(byte[] request)
    {
        var resource = new Dictionary<string, string>();
        var metrics = new List<OtlpMetric>();
        foreach (var (field, resourceMetrics) in Messages(request))
        {
            if (field != 1)
            {
                continue;
            }

            foreach (var (rmField, body) in Messages(resourceMetrics))
            {
                if (rmField == 1)
                {
                    foreach (var (f, kv) in Messages(body))
                    {
                        if (f == 1)
                        {
                            var (k, v) = KeyValue(kv);
                            resource[k] = v;
                        }
                    }
                }
                else if (rmField == 2)
                {
                    DecodeScopeMetrics(body, metrics);
                }
            }
        }

        return new OtlpExport(resource, metrics);
    }

    private static void DecodeScopeMetrics(byte[] scopeMetrics, List<OtlpMetric> metrics)
    {
        string scope = string.Empty;
        var bodies = new List<byte[]>();
        foreach (var (field, body) in Messages(scopeMetrics))
        {
            if (field == 1)
            {
                scope = Strings(body).GetValueOrDefault(1, string.Empty);
            }
            else if (field == 2)
            {
                bodies.Add(body);
            }
        }

        foreach (var body in bodies)
        {
            metrics.Add(DecodeMetric(scope, body));
        }
    }

    private static OtlpMetric DecodeMetric(string scope, byte[] metric)
    {
        string name = string.Empty, unit = string.Empty, kind = string.Empty;
        bool monotonic = false;
        var points = new List<OtlpPoint>();
        var input = new CodedInputStream(metric);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1:
                    name = input.ReadString();
                    break;
                case 3:
                    unit = input.ReadString();
                    break;
                case 5 or 7 or 9:
                    int field = WireFormat.GetTagFieldNumber(tag);
                    kind = field == 5 ? "gauge" : field == 7 ? "sum" : "histogram";
                    var data = input.ReadBytes().ToByteArray();
                    var inner = new CodedInputStream(data);
                    uint t;
                    while ((t = inner.ReadTag()) != 0)
                    {
                        int f = WireFormat.GetTagFieldNumber(t);
                        if (f == 1)
                        {
                            var point = inner.ReadBytes().ToByteArray();
                            points.Add(kind == "histogram" ? HistogramPoint(point) : NumberPoint(point));
                        }
                        else if (f == 3 && kind == "sum")
                        {
                            monotonic = inner.ReadBool();
                        }
                        else
                        {
                            inner.SkipLastField();
                        }
                    }

                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }

        return new OtlpMetric(scope, name, unit, kind, monotonic, points);
    }

    private static OtlpPoint NumberPoint(byte[] point)
    {
        var attributes = new Dictionary<string, string>();
        double value = 0;
        var input = new CodedInputStream(point);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 7:
                    var (k, v) = KeyValue(input.ReadBytes().ToByteArray());
                    attributes[k] = v;
                    break;
                case 4:
                    value = input.ReadDouble();
                    break;
                case 6:
                    value = input.ReadSFixed64();
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }

        return new OtlpPoint(attributes, value, 0, 0, [], []);
    }

    private static OtlpPoint HistogramPoint(byte[] point)
    {
        var attributes = new Dictionary<string, string>();
        ulong count = 0;
        double sum = 0;
        var buckets = new List<ulong>();
        var bounds = new List<double>();
        var input = new CodedInputStream(point);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            int field = WireFormat.GetTagFieldNumber(tag);
            var wire = WireFormat.GetTagWireType(tag);
            switch (field)
            {
                case 9:
                    var (k, v) = KeyValue(input.ReadBytes().ToByteArray());
                    attributes[k] = v;
                    break;
                case 4:
                    count = input.ReadFixed64();
                    break;
                case 5:
                    sum = input.ReadDouble();
                    break;
                case 6 when wire == WireFormat.WireType.LengthDelimited:
                    var packedCounts = input.ReadBytes().ToByteArray();
                    for (int i = 0; i + 8 <= packedCounts.Length; i += 8)
                    {
                        buckets.Add(BitConverter.ToUInt64(packedCounts, i));
                    }

                    break;
                case 6:
                    buckets.Add(input.ReadFixed64());
                    break;
                case 7 when wire == WireFormat.WireType.LengthDelimited:
                    var packedBounds = input.ReadBytes().ToByteArray();
                    for (int i = 0; i + 8 <= packedBounds.Length; i += 8)
                    {
                        bounds.Add(BitConverter.ToDouble(packedBounds, i));
                    }

                    break;
                case 7:
                    bounds.Add(input.ReadDouble());
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }

        return new OtlpPoint(attributes, 0, count, sum, [.. buckets], [.. bounds]);
    }

    private static (string Key, string Value) KeyValue(byte[] keyValue)
    {
        string key = string.Empty, value = string.Empty;
        var input = new CodedInputStream(keyValue);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == 1)
            {
                key = input.ReadString();
            }
            else if (WireFormat.GetTagFieldNumber(tag) == 2)
            {
                value = AnyValue(input.ReadBytes().ToByteArray());
            }
            else
            {
                input.SkipLastField();
            }
        }

        return (key, value);
    }

    private static string AnyValue(byte[] anyValue)
    {
        var input = new CodedInputStream(anyValue);
        uint tag = input.ReadTag();
        return WireFormat.GetTagFieldNumber(tag) switch
        {
            1 => input.ReadString(),
            2 => input.ReadBool() ? "true" : "false",
            3 => input.ReadInt64().ToString(CultureInfo.InvariantCulture),
            4 => input.ReadDouble().ToString("R", CultureInfo.InvariantCulture),
            _ => string.Empty,
        };
    }

    private static Dictionary<int, string> Strings(byte[] message)
    {
        var result = new Dictionary<int, string>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited && WireFormat.GetTagFieldNumber(tag) is 1 or 2)
            {
                result[WireFormat.GetTagFieldNumber(tag)] = input.ReadString();
            }
            else
            {
                input.SkipLastField();
            }
        }

        return result;
    }

    /// <summary>The length-delimited fields of a message, with their numbers.</summary>
    private static List<(int Field, byte[] Body)> Messages(byte[] message)
    {
        var result = new List<(int, byte[])>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                result.Add((WireFormat.GetTagFieldNumber(tag), input.ReadBytes().ToByteArray()));
            }
            else
            {
                input.SkipLastField();
            }
        }

        return result;
    }
}

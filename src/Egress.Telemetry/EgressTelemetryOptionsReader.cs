using System.Collections.Immutable;
using System.Globalization;
using System.Net;
using Egress.Policy.Configuration;

namespace Egress.Telemetry;

/// <summary>Reads <see cref="EgressTelemetryOptions"/>: <c>EGRESS_*</c> settings win, then the standard <c>OTEL_*</c> variables, then defaults.</summary>
internal static class EgressTelemetryOptionsReader
{
    private const string MetricsPath = "/v1/metrics";
    private const string DefaultGrpcEndpoint = "http://localhost:4317";

    public static EgressTelemetryOptions Read(EgressOptions options, Func<string, string?> env)
    {
        var warnings = ImmutableArray.CreateBuilder<string>();
        var protocol = ReadProtocol(options, env, warnings);
        var attributes = ReadResourceAttributes(env(EgressTelemetryEnvironment.OtelResourceAttributes));
        string serviceName = Blank(env(EgressTelemetryEnvironment.OtelServiceName))
            ?? attributes.FirstOrDefault(a => a.Key == "service.name").Value
            ?? EgressTelemetryOptions.DefaultServiceName;
        bool sdkDisabled = Blank(env(EgressTelemetryEnvironment.OtelSdkDisabled)) is { } disabled && disabled.Equals("true", StringComparison.OrdinalIgnoreCase);

        return new EgressTelemetryOptions
        {
            PrometheusEnabled = options.PromEnable,
            PrometheusPort = options.PromPort,
            PrometheusAddress = ReadAddress(env, warnings),
            OtlpEnabled = options.OtelEnable && !sdkDisabled,
            OtlpProtocol = protocol,
            OtlpEndpoint = ReadEndpoint(options, env, protocol, warnings),
            OtlpHeaders = Blank(env(EgressTelemetryEnvironment.OtlpMetricsHeaders)) ?? Blank(env(EgressTelemetryEnvironment.OtlpHeaders)),
            OtlpTimeout = ReadMilliseconds(env, warnings, TimeSpan.FromSeconds(10), EgressTelemetryEnvironment.OtlpMetricsTimeout, EgressTelemetryEnvironment.OtlpTimeout),
            ExportInterval = ReadMilliseconds(env, warnings, TimeSpan.FromSeconds(60), EgressTelemetryEnvironment.MetricExportInterval),
            DeltaTemporality = string.Equals(Blank(env(EgressTelemetryEnvironment.OtlpMetricsTemporality)), "delta", StringComparison.OrdinalIgnoreCase),
            ServiceName = serviceName,
            ResourceAttributes = [.. attributes.Where(a => a.Key != "service.name")],
            Warnings = warnings.ToImmutable(),
        };
    }

    internal static List<KeyValuePair<string, string>> ReadResourceAttributes(string? raw)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var item in (raw ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                result.Add(new(Uri.UnescapeDataString(item[..eq].Trim()), Uri.UnescapeDataString(item[(eq + 1)..].Trim())));
            }
        }

        return result;
    }

    private static OtlpExporterProtocol ReadProtocol(EgressOptions options, Func<string, string?> env, ImmutableArray<string>.Builder warnings)
    {
        if (Blank(env(EgressEnvironment.OtelExporter)) is not null)
        {
            return options.OtelExporter;
        }

        var name = Blank(env(EgressTelemetryEnvironment.OtlpMetricsProtocol)) is not null ? EgressTelemetryEnvironment.OtlpMetricsProtocol : EgressTelemetryEnvironment.OtlpProtocol;
        switch (Blank(env(name))?.ToLowerInvariant())
        {
            case null:
                return options.OtelExporter;
            case "grpc":
                return OtlpExporterProtocol.Grpc;
            case "http/protobuf":
                return OtlpExporterProtocol.HttpProtobuf;
            default:
                warnings.Add($"{name}: unsupported value '{env(name)}' (expected grpc or http/protobuf); using http/protobuf");
                return OtlpExporterProtocol.HttpProtobuf;
        }
    }

    private static Uri ReadEndpoint(EgressOptions options, Func<string, string?> env, OtlpExporterProtocol protocol, ImmutableArray<string>.Builder warnings)
    {
        bool egressSet = Blank(env(EgressEnvironment.OtelEndpoint)) is not null || options.OtelEndpoint != EgressDefaults.OtelEndpoint;
        if (egressSet && Uri.TryCreate(options.OtelEndpoint, UriKind.Absolute, out var egress))
        {
            return WithSignalPath(egress, protocol);
        }

        if (Absolute(env, EgressTelemetryEnvironment.OtlpMetricsEndpoint, warnings) is { } metrics)
        {
            return metrics;
        }

        if (Absolute(env, EgressTelemetryEnvironment.OtlpEndpoint, warnings) is { } baseEndpoint)
        {
            return WithSignalPath(baseEndpoint, protocol);
        }

        return protocol == OtlpExporterProtocol.Grpc ? new Uri(DefaultGrpcEndpoint) : WithSignalPath(new Uri(EgressDefaults.OtelEndpoint), protocol);
    }

    private static Uri WithSignalPath(Uri endpoint, OtlpExporterProtocol protocol)
    {
        if (protocol == OtlpExporterProtocol.Grpc || endpoint.AbsolutePath.EndsWith(MetricsPath, StringComparison.Ordinal))
        {
            return endpoint;
        }

        var builder = new UriBuilder(endpoint) { Path = endpoint.AbsolutePath.TrimEnd('/') + MetricsPath };
        return builder.Uri;
    }

    private static Uri? Absolute(Func<string, string?> env, string name, ImmutableArray<string>.Builder warnings)
    {
        var raw = Blank(env(name));
        if (raw is null)
        {
            return null;
        }

        if (Uri.TryCreate(raw, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            return uri;
        }

        warnings.Add($"{name}: '{raw}' is not an absolute http(s) URL; ignored");
        return null;
    }

    private static IPAddress ReadAddress(Func<string, string?> env, ImmutableArray<string>.Builder warnings)
    {
        var raw = Blank(env(EgressTelemetryEnvironment.PromHost));
        if (raw is null)
        {
            return IPAddress.Loopback;
        }

        if (raw.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        if (IPAddress.TryParse(raw.Trim('[', ']'), out var address))
        {
            return address;
        }

        warnings.Add($"{EgressTelemetryEnvironment.PromHost}: '{raw}' is not an IP address; binding to 127.0.0.1");
        return IPAddress.Loopback;
    }

    private static TimeSpan ReadMilliseconds(Func<string, string?> env, ImmutableArray<string>.Builder warnings, TimeSpan fallback, params string[] names)
    {
        foreach (var name in names)
        {
            var raw = Blank(env(name));
            if (raw is null)
            {
                continue;
            }

            if (int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out int ms) && ms > 0)
            {
                return TimeSpan.FromMilliseconds(ms);
            }

            warnings.Add($"{name}: '{raw}' is not a positive number of milliseconds; using {fallback.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}");
            return fallback;
        }

        return fallback;
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

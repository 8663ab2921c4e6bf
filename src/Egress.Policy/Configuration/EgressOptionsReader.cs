using System.Collections.Immutable;
using System.Globalization;

namespace Egress.Policy.Configuration;

/// <summary>
/// Reads <see cref="EgressOptions"/> from environment variables through an injectable lookup, so tests
/// never touch the process environment. Bad values never weaken the policy: the safe default is kept
/// and a <see cref="ConfigurationWarning"/> names the variable.
/// </summary>
public static class EgressOptionsReader
{
    /// <summary>Reads the options from the process environment.</summary>
    public static EgressOptions FromEnvironment() => Read(Environment.GetEnvironmentVariable);

    /// <summary>Reads the options through <paramref name="lookup"/> (variable name to value, or null when unset).</summary>
    public static EgressOptions Read(Func<string, string?> lookup)
    {
        ArgumentNullException.ThrowIfNull(lookup);
        var warnings = ImmutableArray.CreateBuilder<ConfigurationWarning>();

        // Enforcement fails closed: anything but a recognised "off" keeps enforcing.
        bool enforce = ReadBool(lookup, EgressEnvironment.Enforce, safeDefault: true, warnings);
        // CI switches that *loosen* checks default to off on bad input; switches that tighten them default to on.
        bool allowDisable = ReadBool(lookup, EgressEnvironment.CiAllowDisable, safeDefault: false, warnings);
        bool failOnBlocked = ReadBool(lookup, EgressEnvironment.CiFailOnBlocked, safeDefault: false, warnings, badValueResult: true);
        bool failOnDrift = ReadBool(lookup, EgressEnvironment.CiFailOnDrift, safeDefault: false, warnings, badValueResult: true);
        bool otel = ReadBool(lookup, EgressEnvironment.OtelEnable, safeDefault: false, warnings);
        bool prom = ReadBool(lookup, EgressEnvironment.PromEnable, safeDefault: false, warnings);

        return new EgressOptions
        {
            Enforce = enforce,
            Allowlist = ReadAllowlist(lookup(EgressEnvironment.Allowlist)),
            LogLevel = ReadLogLevel(lookup, warnings),
            LogFormat = ReadLogFormat(lookup, warnings),
            OtelEnable = otel,
            OtelExporter = ReadExporter(lookup, warnings),
            OtelEndpoint = ReadEndpoint(lookup, warnings),
            PromEnable = prom,
            PromPort = ReadInt(lookup, EgressEnvironment.PromPort, EgressDefaults.PromPort, 1, 65535, warnings),
            CiFailOnBlocked = failOnBlocked,
            CiAllowDisable = allowDisable,
            CiFailOnDrift = failOnDrift,
            LockFile = NullIfBlank(lookup(EgressEnvironment.LockFile)),
            EventsFile = NullIfBlank(lookup(EgressEnvironment.EventsFile)),
            JournalIntegrity = Events.JournalIntegrity.FromValue(lookup(EgressEnvironment.EventsKey)),
            RecentEvents = ReadInt(lookup, EgressEnvironment.RecentEvents, EgressDefaults.RecentEvents, 0, EgressDefaults.MaxRecentEvents, warnings),
            IsCi = IsCiValue(lookup(EgressEnvironment.Ci)),
            IsGitHubActions = string.Equals(lookup(EgressEnvironment.GitHubActions)?.Trim(), "true", StringComparison.OrdinalIgnoreCase),
            Warnings = warnings.ToImmutable(),
        };
    }

    /// <summary>Splits a comma-separated allowlist: blanks trimmed, empty items dropped, lower-cased, duplicates removed.</summary>
    public static ImmutableArray<string> ReadAllowlist(string? raw)
    {
        if (raw is null)
        {
            return [EgressDefaults.Allowlist];
        }

        var tokens = ImmutableArray.CreateBuilder<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var part in raw.Split(','))
        {
            var token = part.Trim().ToLowerInvariant();
            if (token.Length > 0 && seen.Add(token))
            {
                tokens.Add(token);
            }
        }

        return tokens.ToImmutable();
    }

    /// <summary>Parses a boolean the way SPEC §3 spells them; <see langword="null"/> when not recognised.</summary>
    public static bool? ParseBool(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "1" or "true" or "yes" or "on" => true,
        "0" or "false" or "no" or "off" => false,
        _ => null,
    };

    /// <summary>Whether a value of the <c>CI</c> variable means "running in CI".</summary>
    public static bool IsCiValue(string? value)
    {
        var v = value?.Trim();
        return !string.IsNullOrEmpty(v) && ParseBool(v) != false;
    }

    private static bool ReadBool(
        Func<string, string?> lookup, string name, bool safeDefault,
        ImmutableArray<ConfigurationWarning>.Builder warnings, bool? badValueResult = null)
    {
        var raw = lookup(name);
        if (raw is null || raw.Trim().Length == 0)
        {
            return safeDefault;
        }

        if (ParseBool(raw) is { } parsed)
        {
            return parsed;
        }

        bool used = badValueResult ?? safeDefault;
        warnings.Add(new(name, $"unrecognised value '{Printable(raw)}' (expected 1/true/yes/on or 0/false/no/off); using {(used ? "1" : "0")}"));
        return used;
    }

    private static int ReadInt(
        Func<string, string?> lookup, string name, int fallback, int min, int max,
        ImmutableArray<ConfigurationWarning>.Builder warnings)
    {
        var raw = lookup(name);
        if (raw is null || raw.Trim().Length == 0)
        {
            return fallback;
        }

        if (int.TryParse(raw.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max)
        {
            return value;
        }

        warnings.Add(new(name, $"'{Printable(raw)}' is not a whole number from {min} to {max}; using {fallback}"));
        return fallback;
    }

    private static int ReadLogLevel(Func<string, string?> lookup, ImmutableArray<ConfigurationWarning>.Builder warnings)
        => ReadInt(lookup, EgressEnvironment.Log, EgressDefaults.LogLevel, 0, 2, warnings);

    private static EgressLogFormat ReadLogFormat(Func<string, string?> lookup, ImmutableArray<ConfigurationWarning>.Builder warnings)
    {
        var raw = lookup(EgressEnvironment.LogFormat);
        switch (raw?.Trim().ToLowerInvariant())
        {
            case null or "" or "text":
                return EgressLogFormat.Text;
            case "json":
                return EgressLogFormat.Json;
            default:
                warnings.Add(new(EgressEnvironment.LogFormat, $"unrecognised value '{Printable(raw!)}' (expected text or json); using text"));
                return EgressLogFormat.Text;
        }
    }

    private static OtlpExporterProtocol ReadExporter(Func<string, string?> lookup, ImmutableArray<ConfigurationWarning>.Builder warnings)
    {
        var raw = lookup(EgressEnvironment.OtelExporter);
        switch (raw?.Trim().ToLowerInvariant())
        {
            case null or "" or "http" or "http/protobuf":
                return OtlpExporterProtocol.HttpProtobuf;
            case "grpc":
                return OtlpExporterProtocol.Grpc;
            default:
                warnings.Add(new(EgressEnvironment.OtelExporter, $"unrecognised value '{Printable(raw!)}' (expected http or grpc); using http"));
                return OtlpExporterProtocol.HttpProtobuf;
        }
    }

    private static string ReadEndpoint(Func<string, string?> lookup, ImmutableArray<ConfigurationWarning>.Builder warnings)
    {
        var raw = NullIfBlank(lookup(EgressEnvironment.OtelEndpoint));
        if (raw is null)
        {
            return EgressDefaults.OtelEndpoint;
        }

        if (Uri.TryCreate(raw, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            return raw;
        }

        warnings.Add(new(EgressEnvironment.OtelEndpoint, $"'{Printable(raw)}' is not an absolute http(s) URL; using {EgressDefaults.OtelEndpoint}"));
        return EgressDefaults.OtelEndpoint;
    }

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    /// <summary>Bounds and escapes a user value before it is echoed in a message.</summary>
    internal static string Printable(string value, int max = 64)
    {
        var span = value.AsSpan();
        if (span.Length > max)
        {
            span = span[..max];
        }

        // Control characters are shown escaped (\u001b), so a reviewer sees what is there and nothing breaks a line.
        var sb = new System.Text.StringBuilder(span.Length + 8);
        foreach (char c in span)
        {
            _ = char.IsControl(c) ? sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}") : sb.Append(c);
        }

        return value.Length > max ? sb.Append('…').ToString() : sb.ToString();
    }
}

using Egress.Export.Exporters;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Policy.Tokens;

namespace Egress.Export.Tests;

/// <summary>Helpers that build policies and exports from lock text, the same way the CLI does.</summary>
internal static class Corpus
{
    public static List<EgressToken> Tokens(params string[] lines)
        => [.. lines.Select(l => EgressToken.TryParse(l, out var t, out var e) ? t! : throw new ArgumentException(e))];

    /// <summary>Our own policy over the same tokens: the oracle every export is compared with.</summary>
    public static EgressPolicy Policy(params string[] lines)
        => EgressPolicy.Create(new EgressOptions { Allowlist = [.. lines.Select(l => l.Trim().ToLowerInvariant())], LogLevel = 0 }, TextWriter.Null);

    public static ExportResult Export(string format, ExportOptions options, params string[] lines)
        => PolicyExport.Run(PolicyExporters.Find(format) ?? throw new ArgumentException(format), Tokens(lines), options);

    public static ExportResult Export(string format, params string[] lines) => Export(format, new ExportOptions(), lines);
}

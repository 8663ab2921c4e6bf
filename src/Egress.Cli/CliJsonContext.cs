using System.Text.Json.Serialization;
using Egress.Policy.Summary;

namespace Egress.Cli;

/// <summary>Source-generated JSON for the command line's own output (AOT-safe).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(Egress.Cli.Commands.PrintedPolicy))]
[JsonSerializable(typeof(List<Egress.Cli.Commands.CheckResult>))]
internal sealed partial class CliJsonContext : JsonSerializerContext;

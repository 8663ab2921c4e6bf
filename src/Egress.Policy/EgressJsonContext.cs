using System.Text.Json.Serialization;
using Egress.Policy.Events;
using Egress.Policy.Summary;

namespace Egress.Policy;

/// <summary>System.Text.Json source generation for every type the policy writes (AOT- and trim-safe).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    WriteIndented = false)]
[JsonSerializable(typeof(EgressEvent))]
[JsonSerializable(typeof(EgressSummary))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(Egress.Policy.Summary.SummaryConfig))]
internal sealed partial class EgressJsonContext : JsonSerializerContext;

/// <summary>The same types written indented (summaries, <c>--print --json</c>).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    WriteIndented = true)]
[JsonSerializable(typeof(EgressSummary))]
[JsonSerializable(typeof(Egress.Policy.Summary.SummaryConfig))]
internal sealed partial class EgressIndentedJsonContext : JsonSerializerContext;

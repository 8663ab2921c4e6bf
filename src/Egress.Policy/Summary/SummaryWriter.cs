using System.Text.Json;

namespace Egress.Policy.Summary;

/// <summary>Serialises and atomically writes <c>egress-summary.json</c>.</summary>
public static class SummaryWriter
{
    /// <summary>The summary as indented JSON.</summary>
    public static string ToJson(EgressSummary summary)
        => JsonSerializer.Serialize(summary, EgressIndentedJsonContext.Default.EgressSummary);

    /// <summary>Writes the summary to <paramref name="path"/> atomically (temporary file, then rename).</summary>
    public static void Write(string path, EgressSummary summary) => AtomicFile.WriteAllText(path, ToJson(summary) + "\n");

    /// <summary>Reads a summary written by <see cref="Write"/>.</summary>
    public static EgressSummary? Read(string path)
        => JsonSerializer.Deserialize(File.ReadAllText(path), EgressJsonContext.Default.EgressSummary);
}

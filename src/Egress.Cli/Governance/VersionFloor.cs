namespace Egress.Cli.Governance;

/// <summary>One <c>name&gt;=version</c> line of a floors file.</summary>
/// <param name="Name">Package or tool id (compared case-insensitively, as NuGet ids are).</param>
/// <param name="Minimum">The lowest acceptable version.</param>
/// <param name="File">The floors file.</param>
/// <param name="Line">1-based line in <paramref name="File"/>.</param>
internal sealed record VersionFloor(string Name, SemanticVersion Minimum, string File, int Line);

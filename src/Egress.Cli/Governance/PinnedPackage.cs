namespace Egress.Cli.Governance;

/// <summary>A version of a tool or package as the repository pins it.</summary>
/// <param name="Name">Id as written.</param>
/// <param name="VersionText">The version as written.</param>
/// <param name="Version">The lowest version the pin admits, or null when it cannot be read as a pinned version.</param>
/// <param name="File">Where it is pinned.</param>
/// <param name="Line">1-based line, when known.</param>
internal sealed record PinnedPackage(string Name, string VersionText, SemanticVersion? Version, string File, int? Line);

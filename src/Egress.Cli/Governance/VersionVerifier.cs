using System.Collections.Immutable;

namespace Egress.Cli.Governance;

/// <summary>Checks every floor against every pin of the same id (ids compare case-insensitively).</summary>
internal static class VersionVerifier
{
    /// <summary>
    /// One check per (floor, pin) pair, and one <see cref="VersionCheckStatus.Missing"/> check for a floor no file
    /// pins. A tool pinned twice (say, in the manifest and as a package) must meet its floor in both places.
    /// </summary>
    public static ImmutableArray<VersionCheck> Verify(IEnumerable<VersionFloor> floors, IEnumerable<PinnedPackage> pins)
    {
        ArgumentNullException.ThrowIfNull(floors);
        ArgumentNullException.ThrowIfNull(pins);
        var byName = pins.ToLookup(p => p.Name, StringComparer.OrdinalIgnoreCase);
        var checks = ImmutableArray.CreateBuilder<VersionCheck>();
        foreach (var floor in floors)
        {
            var matches = byName[floor.Name].ToList();
            if (matches.Count == 0)
            {
                checks.Add(new VersionCheck(floor, null, VersionCheckStatus.Missing));
                continue;
            }

            foreach (var pin in matches)
            {
                var status = pin.Version is null ? VersionCheckStatus.Unpinned
                    : pin.Version < floor.Minimum ? VersionCheckStatus.BelowFloor
                    : VersionCheckStatus.Ok;
                checks.Add(new VersionCheck(floor, pin, status));
            }
        }

        return checks.ToImmutable();
    }
}

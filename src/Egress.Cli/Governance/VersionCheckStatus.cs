namespace Egress.Cli.Governance;

/// <summary>Outcome of checking one floor.</summary>
internal enum VersionCheckStatus
{
    /// <summary>Pinned at or above the floor.</summary>
    Ok,

    /// <summary>Pinned below the floor (a downgrade).</summary>
    BelowFloor,

    /// <summary>Not pinned in any inspected file.</summary>
    Missing,

    /// <summary>Pinned with a version that cannot be compared (floating, a property, no lower bound).</summary>
    Unpinned,
}

namespace Egress.Cli.Governance;

/// <summary>One floor checked against one pin (or against none, when missing).</summary>
/// <param name="Floor">The floor.</param>
/// <param name="Pin">The pin, or null when <see cref="Status"/> is <see cref="VersionCheckStatus.Missing"/>.</param>
/// <param name="Status">The outcome.</param>
internal sealed record VersionCheck(VersionFloor Floor, PinnedPackage? Pin, VersionCheckStatus Status)
{
    /// <summary>True when this check passes.</summary>
    public bool Passed => Status == VersionCheckStatus.Ok;

    /// <summary>One line explaining the outcome.</summary>
    public string Message => Status switch
    {
        VersionCheckStatus.Ok => $"{Pin!.Name} {Pin.VersionText} >= {Floor.Minimum} ({Pin.File})",
        VersionCheckStatus.BelowFloor => $"{Pin!.Name} {Pin.VersionText} in {Pin.File} is below its floor {Floor.Minimum} ({Floor.File}:{Floor.Line}): security tooling must not be downgraded",
        VersionCheckStatus.Unpinned => $"{Pin!.Name} '{Pin.VersionText}' in {Pin.File} does not pin a comparable version; floor {Floor.Minimum} ({Floor.File}:{Floor.Line}) cannot be verified",
        _ => $"{Floor.Name} has a floor of {Floor.Minimum} ({Floor.File}:{Floor.Line}) but is not pinned in any inspected file",
    };
}

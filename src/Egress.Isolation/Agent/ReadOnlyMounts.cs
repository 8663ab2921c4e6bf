using Egress.Isolation.Native;

namespace Egress.Isolation.Agent;

/// <summary>
/// Makes files read-only in the namespace's private mount table: each path is bind-mounted onto itself and
/// remounted read-only, keeping the flags the kernel locks (nosuid, nodev, noexec, atime) — a user namespace
/// may not clear them. A bind mount point cannot be unlinked or renamed over (EBUSY), and the command runs
/// without capabilities, so it can neither unmount nor remount it.
/// </summary>
internal static unsafe class ReadOnlyMounts
{
    private const int StatVfsFlagOffset = 72;
    private const ulong StRelatime = 4096;

    /// <summary>Applies the binds; throws naming the path on failure.</summary>
    public static void Apply(IEnumerable<string> paths)
    {
        foreach (var path in paths.Distinct(StringComparer.Ordinal))
        {
            if (Libc.Mount(path, path, null, Libc.MsBind, 0) != 0)
            {
                throw new IsolationException($"cannot bind-mount {path} read-only for the command: {Libc.LastError()}");
            }

            ulong flags = Libc.MsRemount | Libc.MsBind | Libc.MsRdonly | LockedFlags(path);
            if (Libc.Mount(null, path, null, flags, 0) != 0)
            {
                throw new IsolationException($"cannot remount {path} read-only for the command: {Libc.LastError()}");
            }
        }
    }

    private static ulong LockedFlags(string path)
    {
        byte* buffer = stackalloc byte[256];
        if (Libc.StatVfs(path, buffer) != 0)
        {
            return 0;
        }

        ulong st = *(ulong*)(buffer + StatVfsFlagOffset);

        // ST_NOSUID..ST_NODIRATIME equal their MS_* values; ST_RELATIME (4096) does not.
        ulong flags = st & (Libc.MsNosuid | Libc.MsNodev | Libc.MsNoexec | Libc.MsNoatime | Libc.MsNodiratime);
        return (st & StRelatime) != 0 ? flags | Libc.MsRelatime : flags;
    }
}

namespace Egress.Isolation;

/// <summary>
/// What isolation needs from the machine, checked before anything starts so that a missing piece is an
/// error naming it, never a silent run without isolation.
/// </summary>
public static class IsolationRequirements
{
    /// <summary>
    /// The programs isolation runs, with the package that provides each. The namespace's network (lo, routes,
    /// nftables rules) is set up by the agent over netlink, so neither <c>ip</c> nor <c>nft</c> is needed.
    /// </summary>
    public static IReadOnlyList<(string Program, string Package)> Programs { get; } =
    [
        ("unshare", "util-linux"),
    ];

    /// <summary>The remedies printed with every isolation failure.</summary>
    public const string Remedies =
        "run as root (sudo), or allow unprivileged user namespaces (Ubuntu 24.04 and later: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0; " +
        "other kernels: kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0; in a container: --cap-add SYS_ADMIN or --privileged), " +
        "or pass --isolation none (EGRESS_ISOLATION=none) to run without isolation — then programs that ignore HTTP_PROXY are neither decided nor recorded";

    /// <summary>Null when isolation can be attempted here; otherwise why not (platform or missing programs).</summary>
    public static string? Check(Func<string, string?>? findProgram = null)
    {
        if (!OperatingSystem.IsLinux())
        {
            return "--isolation netns needs Linux namespaces; on this platform only --isolation none (EGRESS_ISOLATION=none) is available";
        }

        if (!Native.Libc.IsSupported)
        {
            return "--isolation netns needs a 64-bit process";
        }

        findProgram ??= FindOnPath;
        var missing = Programs.Where(p => findProgram(p.Program) is null).ToList();
        if (missing.Count > 0)
        {
            return "--isolation netns needs " + string.Join(", ", missing.Select(m => $"'{m.Program}' (package {m.Package})")) +
                   " on PATH; install " + string.Join(" and ", missing.Select(m => m.Package).Distinct()) + ", or pass --isolation none";
        }

        return null;
    }

    /// <summary>The full path of <paramref name="program"/> on PATH (plus /usr/sbin, /sbin, /usr/bin and /bin), or null.</summary>
    public static string? FindOnPath(string program)
    {
        ArgumentException.ThrowIfNullOrEmpty(program);
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
        return dirs.Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);
    }
}

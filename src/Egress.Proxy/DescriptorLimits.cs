using System.Runtime.InteropServices;

namespace Egress.Proxy;

/// <summary>
/// The process's file-descriptor limit (<c>RLIMIT_NOFILE</c>) and what follows from it: how many client
/// connections fit (each holds two descriptors, its own and the destination's), how many splice pipes the
/// proxy may keep, and whether descriptors ran out recently (reported by <c>/healthz</c>). Process-wide
/// because the limit is.
/// </summary>
internal static partial class DescriptorLimits
{
    /// <summary>How long after an "out of descriptors" failure the proxy reports itself degraded.</summary>
    public static readonly TimeSpan DegradedFor = TimeSpan.FromSeconds(10);

    private const int RlimitNofile = 7;
    private static long s_lastExhausted = long.MinValue;
    private static long s_exhaustedCount;

    /// <summary>The soft descriptor limit, or null when unknown (not Linux, or unlimited).</summary>
    public static long? SoftLimit { get; } = ReadSoftLimit();

    /// <summary>
    /// Descriptors kept back: those open when the proxy started (runtime, listener, journal; about 12 for the
    /// AOT binary, 70 under <c>dotnet</c>) plus a margin for DNS, metrics scrapes, refusals and children.
    /// </summary>
    public static int Reserve => SoftLimit is { } soft ? OpenAtStart + (int)Math.Min(1024, 32 + (soft / 64)) : 0;

    /// <summary>Descriptors open when this class was first used (at server start).</summary>
    public static int OpenAtStart { get; } = CountOpen();

    /// <summary>Most splice pipes alive at once (two descriptors each).</summary>
    public static int PipeCapacity => SoftLimit is { } soft ? (int)Math.Clamp(soft / 128, 4, 128) : 128;

    /// <summary>Most client connections the descriptor limit allows, or null when the limit is unknown.</summary>
    public static int? ConnectionCapacity => SoftLimit is { } soft
        ? (int)Math.Clamp((soft - Reserve - (2L * PipeCapacity)) / 2, 1, int.MaxValue)
        : null;

    /// <summary>Times an operation failed because descriptors ran out (EMFILE/ENFILE).</summary>
    public static long ExhaustedCount => Interlocked.Read(ref s_exhaustedCount);

    /// <summary>Whether descriptors ran out within <see cref="DegradedFor"/>.</summary>
    public static bool RecentlyExhausted
    {
        get
        {
            long last = Interlocked.Read(ref s_lastExhausted);
            return last != long.MinValue && TimeProvider.System.GetElapsedTime(last) < DegradedFor;
        }
    }

    /// <summary>The connection cap to use: the configured one, lowered to what the descriptor limit allows.</summary>
    public static int EffectiveMaxConnections(int configured) => ConnectionCapacity is { } fits ? Math.Min(configured, fits) : configured;

    /// <summary>The 503 message for a client refused at the cap, naming where the cap came from.</summary>
    public static string CapMessage(int cap) => ConnectionCapacity is { } fits && fits <= cap
        ? $"too many connections (the cap of {cap} follows the descriptor limit RLIMIT_NOFILE={SoftLimit}; raise it with ulimit -n)"
        : $"too many connections (the cap is {cap}, --max-connections)";

    /// <summary>The <c>/healthz</c> answer: 200 <c>ok</c>, or 503 <c>degraded: …</c> while descriptors recently ran out.</summary>
    public static (int Status, string Body) Health() => RecentlyExhausted
        ? (503, $"degraded: the proxy ran out of file descriptors (RLIMIT_NOFILE={SoftLimit?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"}) in the last {DegradedFor.TotalSeconds:0} s; new connections wait or get 503\n")
        : (200, "ok\n");

    /// <summary>Records that an accept, socket or pipe failed for lack of descriptors.</summary>
    public static void ReportExhausted()
    {
        Interlocked.Increment(ref s_exhaustedCount);
        Interlocked.Exchange(ref s_lastExhausted, TimeProvider.System.GetTimestamp());
        ProxyMetrics.Reject("descriptors_exhausted");
    }

    private static int CountOpen()
    {
        try
        {
            return OperatingSystem.IsLinux() ? Directory.GetFileSystemEntries("/proc/self/fd").Length : 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 64;
        }
    }

    private static long? ReadSoftLimit()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            if (GetRlimit(RlimitNofile, out var limit) != 0 || limit.Current > int.MaxValue)
            {
                return null;
            }

            return (long)limit.Current;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRlimit(int resource, out Rlimit limit);

    [StructLayout(LayoutKind.Sequential)]
    private struct Rlimit
    {
        public ulong Current;
        public ulong Maximum;
    }
}

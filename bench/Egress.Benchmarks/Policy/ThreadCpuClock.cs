using System.Runtime.InteropServices;
using Perfolizer.Horology;

namespace Egress.Benchmarks.Policy;

/// <summary>
/// A BenchmarkDotNet clock that reads the calling thread's CPU time (<c>CLOCK_THREAD_CPUTIME_ID</c>), so
/// that time the thread spends descheduled — while other engineers' builds run on a 2-core machine — is not
/// counted. Cache and core contention still show; preemption does not. Linux only.
/// </summary>
public sealed partial class ThreadCpuClock : IClock
{
    private const int ClockThreadCpuTimeId = 3;

    /// <summary>The one instance.</summary>
    public static readonly ThreadCpuClock Instance = new();

    private ThreadCpuClock()
    {
    }

    /// <inheritdoc />
    public string Title => "ThreadCpuTime";

    /// <inheritdoc />
    public bool IsAvailable => OperatingSystem.IsLinux();

    /// <inheritdoc />
    public Frequency Frequency => new(1_000_000_000d);

    /// <inheritdoc />
    public long GetTimestamp()
    {
        _ = ClockGetTime(ClockThreadCpuTimeId, out var ts);
        return (ts.Seconds * 1_000_000_000L) + ts.Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clockId, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}

using System.Collections.Concurrent;

namespace Egress.Proxy.Forwarding;

/// <summary>
/// The process's pipes for <c>splice(2)</c>. A pump holds a pipe only while bytes are moving (or stuck behind a
/// full destination), so idle tunnels hold none; the number of pipes is capped (each costs two descriptors,
/// counted in <see cref="DescriptorLimits"/>). When the cap is reached a pump copies through a budgeted
/// user-space buffer instead (<see cref="BufferBudget"/>).
/// </summary>
internal static class SplicePipePool
{
    /// <summary>Size asked for each pipe (the kernel default is 64 KiB; larger means fewer system calls for bulk).</summary>
    public const int PipeSize = 256 * 1024;

    private static readonly ConcurrentBag<SplicePipe> Free = [];
    private static int s_created;
    private static volatile bool s_broken;

    /// <summary>Whether the zero-copy path is available on this platform.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && !s_broken;

    /// <summary>Most pipes alive at once.</summary>
    public static int Capacity { get; } = DescriptorLimits.PipeCapacity;

    /// <summary>Pipes alive (in use or free).</summary>
    public static int Created => Volatile.Read(ref s_created);

    /// <summary>Takes a free pipe or makes one under the cap; null when none is available.</summary>
    public static SplicePipe? TryRent()
    {
        if (!IsSupported)
        {
            return null;
        }

        if (Free.TryTake(out var pipe))
        {
            return pipe;
        }

        if (Interlocked.Increment(ref s_created) > Capacity)
        {
            Interlocked.Decrement(ref s_created);
            return null;
        }

        pipe = SplicePipe.TryCreate(PipeSize, out int error);
        if (pipe is null)
        {
            Interlocked.Decrement(ref s_created);
            if (error is SpliceNative.EMFILE or SpliceNative.ENFILE)
            {
                DescriptorLimits.ReportExhausted();
            }
            else
            {
                s_broken = true;
            }
        }

        return pipe;
    }

    /// <summary>Gives a pipe back: kept when empty, closed when bytes are still in it (an aborted transfer).</summary>
    public static void Return(SplicePipe pipe)
    {
        if (pipe.Pending == 0)
        {
            Free.Add(pipe);
        }
        else
        {
            pipe.Dispose();
            Interlocked.Decrement(ref s_created);
        }
    }
}

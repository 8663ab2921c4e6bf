using System.Globalization;
using System.Runtime.InteropServices;

namespace Egress.Isolation.Native;

/// <summary>
/// Takes every capability away from the processes the calling thread starts, as
/// <c>setpriv --bounding-set=-all --inh-caps=-all --ambient-caps=-all --no-new-privs</c> does, without the
/// extra process: the bounding set emptied, the inheritable and ambient sets cleared and <c>no_new_privs</c>
/// set. All of these are per thread on Linux and a fork copies the forking thread's, so the thread that calls
/// this must be the one that then starts the command (<see cref="System.Diagnostics.Process.Start()"/> forks on
/// the calling thread). The thread keeps its own effective capabilities; a command it execs afterwards has none
/// (root's exec gains only what the bounding set allows) and can never gain any (no set-uid, no file
/// capabilities).
/// </summary>
internal static unsafe partial class Capabilities
{
    private const int PrSetNoNewPrivs = 38;
    private const int PrGetNoNewPrivs = 39;
    private const int PrCapBsetRead = 23;
    private const int PrCapBsetDrop = 24;
    private const int PrCapAmbient = 47;
    private const int PrCapAmbientClearAll = 4;
    private const uint LinuxCapabilityVersion3 = 0x20080522;
    private const int Einval = 22;

    /// <summary>Drops the capabilities as described; throws <see cref="IsolationException"/> naming the step that failed.</summary>
    public static void DropForChildren()
    {
        int last = LastCapability();
        for (int cap = 0; cap <= last; cap++)
        {
            if (Prctl(PrCapBsetDrop, (nuint)cap, 0, 0, 0) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Einval && cap > 40)
                {
                    break; // past the kernel's last capability (cap_last_cap was unreadable)
                }

                throw Failure($"removing capability {cap} from the bounding set", errno);
            }
        }

        if (Prctl(PrCapAmbient, PrCapAmbientClearAll, 0, 0, 0) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno != Einval)
            {
                throw Failure("clearing the ambient capabilities", errno); // EINVAL: a kernel before 4.3 has no ambient set
            }
        }

        var header = new CapHeader { Version = LinuxCapabilityVersion3, Pid = 0 };
        var data = stackalloc CapData[2];
        if (CapGet(&header, data) != 0)
        {
            throw Failure("reading the capability sets", Marshal.GetLastPInvokeError());
        }

        data[0].Inheritable = 0;
        data[1].Inheritable = 0;
        if (CapSet(&header, data) != 0)
        {
            throw Failure("clearing the inheritable capabilities", Marshal.GetLastPInvokeError());
        }

        if (Prctl(PrSetNoNewPrivs, 1, 0, 0, 0) != 0)
        {
            throw Failure("setting no_new_privs", Marshal.GetLastPInvokeError());
        }

        // Check what the command will inherit instead of trusting the calls: a capability still in the
        // bounding set, or no no_new_privs, would be a command with privileges.
        for (int cap = 0; cap <= last; cap++)
        {
            if (Prctl(PrCapBsetRead, (nuint)cap, 0, 0, 0) > 0)
            {
                throw new IsolationException($"capability {cap} is still in the bounding set after dropping it; the command was not run");
            }
        }

        if (Prctl(PrGetNoNewPrivs, 0, 0, 0, 0) != 1)
        {
            throw new IsolationException("no_new_privs is not set after setting it; the command was not run");
        }
    }

    private static int LastCapability()
    {
        try
        {
            return int.Parse(File.ReadAllText("/proc/sys/kernel/cap_last_cap").Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return 63; // every possible bit; the drop loop stops at the kernel's first invalid one
        }
    }

    private static IsolationException Failure(string step, int errno) =>
        new($"cannot drop the command's capabilities inside the namespace ({step}: {Libc.Describe(errno)}); the command was not run");

    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc", EntryPoint = "capget", SetLastError = true)]
    private static partial int CapGet(CapHeader* header, CapData* data);

    [LibraryImport("libc", EntryPoint = "capset", SetLastError = true)]
    private static partial int CapSet(CapHeader* header, CapData* data);

    /// <summary><c>struct __user_cap_header_struct</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct CapHeader
    {
        public uint Version;
        public int Pid;
    }

    /// <summary><c>struct __user_cap_data_struct</c> (two of them for 64 capability bits, version 3).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct CapData
    {
        public uint Effective;
        public uint Permitted;
        public uint Inheritable;
    }
}

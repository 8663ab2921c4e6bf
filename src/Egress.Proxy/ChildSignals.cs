using System.Runtime.InteropServices;

namespace Egress.Proxy;

/// <summary>Sends POSIX signals to a process (used to forward SIGTERM and friends to a child run behind the proxy).</summary>
public static partial class ChildSignals
{
    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false when it could not be delivered or on Windows.</summary>
    public static bool Send(int pid, PosixSignal signal)
    {
        if (OperatingSystem.IsWindows())
        {
            return false;
        }

        int number = signal switch
        {
            PosixSignal.SIGHUP => 1,
            PosixSignal.SIGINT => 2,
            PosixSignal.SIGQUIT => 3,
            PosixSignal.SIGTERM => 15,
            _ => 0,
        };
        return number != 0 && Kill(pid, number) == 0;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}

using System.Runtime.InteropServices;

namespace Egress.Isolation.Native;

/// <summary>
/// The few Linux system calls isolation needs that .NET does not expose: a SOCK_SEQPACKET socket pair,
/// descriptor passing (<c>SCM_RIGHTS</c>), <c>fcntl</c> for close-on-exec, <c>mount</c> for read-only binds,
/// <c>statvfs</c> for the flags a remount must keep, and <c>kill</c>. Linux on 64-bit only (the struct
/// layouts below are the LP64 ones); callers check <see cref="IsSupported"/>.
/// </summary>
internal static unsafe partial class Libc
{
    public const int AfUnix = 1;
    public const int SockSeqPacket = 5;
    public const int SockCloexec = 0x80000;
    public const int FGetFd = 1;
    public const int FSetFd = 2;
    public const int FdCloexec = 1;
    public const int SolSocket = 1;
    public const int ScmRights = 1;
    public const int MsgCmsgCloexec = 0x40000000;
    public const int Eintr = 4;
    public const ulong MsRdonly = 1;
    public const ulong MsNosuid = 2;
    public const ulong MsNodev = 4;
    public const ulong MsNoexec = 8;
    public const ulong MsRemount = 32;
    public const ulong MsBind = 4096;
    public const ulong MsNoatime = 1024;
    public const ulong MsNodiratime = 2048;
    public const ulong MsRelatime = 1 << 21;

    /// <summary>Whether these calls and layouts apply: Linux, 64-bit.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && Environment.Is64BitProcess;

    [LibraryImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    public static partial int SocketPair(int domain, int type, int protocol, int* fds);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint SendMsg(int fd, MsgHdr* message, int flags);

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    public static partial nint RecvMsg(int fd, MsgHdr* message, int flags);

    [LibraryImport("libc", EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mount(string? source, string target, string? fileSystemType, ulong flags, nint data);

    [LibraryImport("libc", EntryPoint = "statvfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int StatVfs(string path, byte* buffer);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEuid();

    [LibraryImport("libc", EntryPoint = "strerror")]
    private static partial nint StrError(int errno);

    /// <summary>The C library's text for <paramref name="errno"/> (e.g. "Operation not permitted").</summary>
    public static string Describe(int errno) => Marshal.PtrToStringUTF8(StrError(errno)) ?? $"errno {errno}";

    /// <summary>The last error of a <c>SetLastError</c> call, described.</summary>
    public static string LastError() => Describe(Marshal.GetLastPInvokeError());

    /// <summary><c>struct msghdr</c> (LP64).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public nint Name;
        public uint NameLength;
        public nint Iov;
        public nuint IovLength;
        public nint Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary><c>struct iovec</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public nint Base;
        public nuint Length;
    }

    /// <summary><c>struct cmsghdr</c> header (LP64: 16 bytes, data follows).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CmsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }
}

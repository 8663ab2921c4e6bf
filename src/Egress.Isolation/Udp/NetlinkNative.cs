using System.Runtime.InteropServices;

namespace Egress.Isolation.Udp;

/// <summary>The two libc calls .NET has no managed form of for netlink (System.Net.Sockets knows no AF_NETLINK).</summary>
internal static unsafe partial class NetlinkNative
{
    public const int AfNetlink = 16;
    public const int SockRaw = 3;
    public const int SockCloexec = 0x80000;

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    public static partial int Bind(int fd, byte* address, int length);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    /// <summary>Binds <paramref name="fd"/> to a <c>sockaddr_nl</c> with port id 0 (the kernel assigns one) and no multicast groups.</summary>
    public static int BindKernelAssigned(int fd)
    {
        byte* address = stackalloc byte[12];
        new Span<byte>(address, 12).Clear();
        *(ushort*)address = AfNetlink;
        return Bind(fd, address, 12);
    }

    public static string LastError() => new System.ComponentModel.Win32Exception(Marshal.GetLastPInvokeError()).Message;
}

using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Egress.Proxy.Gateway;

/// <summary>
/// A connected pair of local stream sockets (<c>socketpair(2)</c>, <c>AF_UNIX</c>): the TLS listener hands one end
/// to the proxy, which reads plain HTTP from it exactly as from a TCP client, and pumps the other to the TLS
/// stream. Written by hand because .NET has no socketpair API and it is one blittable call; Linux only.
/// </summary>
internal static partial class SocketPair
{
    private const int AfUnix = 1;
    private const int SockStream = 1;
    private const int SockCloexec = 0x80000;

    /// <summary>Creates the pair.</summary>
    /// <exception cref="SocketException">The call failed (e.g. out of descriptors).</exception>
    public static (Socket Inner, Socket Outer) Create()
    {
        Span<int> fds = stackalloc int[2];
        if (Native(AfUnix, SockStream | SockCloexec, 0, ref MemoryMarshal.GetReference(fds)) != 0)
        {
            throw new SocketException(Marshal.GetLastPInvokeError());
        }

        return (Wrap(fds[0]), Wrap(fds[1]));
    }

    private static Socket Wrap(int fd) => new(new SafeSocketHandle(fd, ownsHandle: true));

    [LibraryImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    private static partial int Native(int domain, int type, int protocol, ref int fds);
}

using System.Runtime.InteropServices;

namespace Egress.Proxy.Forwarding;

/// <summary>
/// The Linux system calls of the zero-copy path (<c>splice(2)</c> through a pipe, as HAProxy does). Written by
/// hand because no library wraps them and they are a handful of blittable calls; only called on Linux.
/// </summary>
internal static partial class SpliceNative
{
    /// <summary>Move pages instead of copying where the kernel can.</summary>
    public const uint SpliceMove = 1;

    /// <summary>Do not block on the pipe (the sockets are non-blocking themselves).</summary>
    public const uint SpliceNonBlock = 2;

    /// <summary>errno: interrupted.</summary>
    public const int EINTR = 4;

    /// <summary>errno: would block.</summary>
    public const int EAGAIN = 11;

    /// <summary>errno: invalid argument (splice not supported for these descriptors).</summary>
    public const int EINVAL = 22;

    /// <summary>errno: too many open files in the process.</summary>
    public const int EMFILE = 24;

    /// <summary>errno: too many open files in the system.</summary>
    public const int ENFILE = 23;

    /// <summary>errno: function not implemented.</summary>
    public const int ENOSYS = 38;

    private const int FGetFl = 3;
    private const int FSetPipeSize = 1031;
    private const int ONonBlock = 0x800;
    private const int OCloExec = 0x80000;

    /// <summary>Creates a non-blocking, close-on-exec pipe; false (errno in <paramref name="error"/>) on failure.</summary>
    public static bool TryCreatePipe(out int readFd, out int writeFd, out int error)
    {
        Span<int> fds = stackalloc int[2];
        if (Pipe2(ref MemoryMarshal.GetReference(fds), ONonBlock | OCloExec) != 0)
        {
            error = Marshal.GetLastPInvokeError();
            readFd = writeFd = -1;
            return false;
        }

        (readFd, writeFd, error) = (fds[0], fds[1], 0);
        return true;
    }

    /// <summary>Asks for a larger pipe buffer; keeps the default when refused.</summary>
    public static void TrySetPipeSize(int fd, int bytes) => _ = Fcntl(fd, FSetPipeSize, bytes);

    /// <summary>Whether the descriptor is in non-blocking mode (splice on a blocking socket would block a thread).</summary>
    public static bool IsNonBlocking(int fd) => (Fcntl(fd, FGetFl, 0) & ONonBlock) != 0;

    /// <summary>splice(2) without offsets; returns bytes moved, 0 at end of input, -1 with errno set.</summary>
    [LibraryImport("libc", EntryPoint = "splice", SetLastError = true)]
    public static partial nint Splice(int fdIn, nint offIn, int fdOut, nint offOut, nuint length, uint flags);

    /// <summary>read(2) into a buffer.</summary>
    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, ref byte buffer, nuint count);

    /// <summary>close(2).</summary>
    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2(ref int fds, int flags);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);
}

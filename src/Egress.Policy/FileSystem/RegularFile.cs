using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Egress.Policy.FileSystem;

/// <summary>
/// Opens the files the policy reads and appends to (journal, lock file) without following a symbolic link
/// and without blocking, and accepts only a regular file: a FIFO would wedge every decision (or a
/// <c>--verify</c>), <c>/dev/zero</c> would never end, a link to <c>/dev/null</c> would swallow events.
/// Written with POSIX calls because <see cref="FileStream"/> has no no-follow or non-blocking open.
/// </summary>
internal static partial class RegularFile
{
    /// <summary>
    /// Opens <paramref name="path"/> for reading; <see langword="null"/> when it does not exist.
    /// Throws <see cref="IOException"/> naming <paramref name="what"/> and the path for anything but a regular file.
    /// </summary>
    public static FileStream? OpenRead(string path, string what)
    {
        if (OperatingSystem.IsWindows())
        {
            return OpenReadWindows(path, what);
        }

        int fd = Native.Open(path, Native.O_RDONLY | Native.O_NOFOLLOW | Native.O_NONBLOCK | Native.O_CLOEXEC, 0);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno == Native.ENOENT ? null : throw OpenError(path, what, errno);
        }

        var handle = new SafeFileHandle((nint)fd, ownsHandle: true);
        try
        {
            RequireRegular(fd, path, what);
            return new FileStream(handle, FileAccess.Read, bufferSize: 0);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens (creating it 0644 if missing) <paramref name="path"/> for appending and reading its last byte;
    /// returns the descriptor. Throws <see cref="IOException"/> for a link, FIFO, device, socket or directory.
    /// </summary>
    public static int OpenAppend(string path, string what)
    {
        int fd = Native.Open(path, Native.O_RDWR | Native.O_APPEND | Native.O_CREAT | Native.O_NOFOLLOW | Native.O_NONBLOCK | Native.O_CLOEXEC, 0x1A4 /* 0644 */);
        if (fd < 0)
        {
            throw OpenError(path, what, Marshal.GetLastPInvokeError());
        }

        try
        {
            RequireRegular(fd, path, what);
            return fd;
        }
        catch
        {
            _ = Native.Close(fd);
            throw;
        }
    }

    /// <summary>What kind of file <paramref name="fd"/> is (<c>S_IFMT</c> bits of its mode), or -1 when it cannot be told.</summary>
    internal static int FileType(int fd)
    {
        Span<byte> buffer = stackalloc byte[256];
        if (OperatingSystem.IsLinux())
        {
            // statx has one layout on every architecture (struct stat does not): stx_mode is the u16 at offset 28.
            return Native.Statx(fd, string.Empty, Native.AT_EMPTY_PATH, Native.STATX_TYPE, ref MemoryMarshal.GetReference(buffer)) == 0
                ? BitConverter.ToUInt16(buffer[28..]) & 0xF000
                : -1;
        }

        // macOS struct stat: st_dev (i32), then st_mode (u16).
        return Native.Fstat(fd, ref MemoryMarshal.GetReference(buffer)) == 0 ? BitConverter.ToUInt16(buffer[4..]) & 0xF000 : -1;
    }

    private static void RequireRegular(int fd, string path, string what)
    {
        int type = FileType(fd);
        if (type != Native.S_IFREG)
        {
            throw new IOException($"{what} {path} is {Describe(type)}, not a regular file; point {what} at a regular file");
        }
    }

    private static string Describe(int type) => type switch
    {
        Native.S_IFIFO => "a FIFO (named pipe)",
        Native.S_IFCHR => "a character device",
        Native.S_IFBLK => "a block device",
        Native.S_IFDIR => "a directory",
        Native.S_IFSOCK => "a socket",
        -1 => "of a type that cannot be determined",
        _ => "a special file",
    };

    private static IOException OpenError(string path, string what, int errno) => errno switch
    {
        _ when errno == Native.ELOOP => new IOException($"{what} {path} is a symbolic link, which is not followed; point {what} at the file itself"),
        _ when errno == Native.ENXIO => new IOException($"{what} {path} is a FIFO or socket (no reader), not a regular file; point {what} at a regular file"),
        _ => new IOException($"cannot open {what} {path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})"),
    };

    private static FileStream? OpenReadWindows(string path, string what)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            throw new IOException($"{what} {path} is a symbolic link, which is not followed; point {what} at the file itself");
        }

        if (Directory.Exists(path))
        {
            throw new IOException($"{what} {path} is a directory, not a regular file; point {what} at a regular file");
        }

        return info.Exists ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1) : null;
    }

    internal static partial class Native
    {
        public const int O_RDONLY = 0x0;
        public const int O_RDWR = 0x2;
        public const int S_IFIFO = 0x1000;
        public const int S_IFCHR = 0x2000;
        public const int S_IFDIR = 0x4000;
        public const int S_IFBLK = 0x6000;
        public const int S_IFREG = 0x8000;
        public const int S_IFSOCK = 0xC000;
        public const int ENOENT = 2;
        public const int ENXIO = 6;
        public const int AT_EMPTY_PATH = 0x1000;
        public const uint STATX_TYPE = 0x1;
        public const int SEEK_END = 2;
        public static readonly int O_CREAT = OperatingSystem.IsMacOS() ? 0x200 : 0x40;
        public static readonly int O_APPEND = OperatingSystem.IsMacOS() ? 0x8 : 0x400;
        public static readonly int O_NONBLOCK = OperatingSystem.IsMacOS() ? 0x4 : 0x800;
        public static readonly int O_CLOEXEC = OperatingSystem.IsMacOS() ? 0x1000000 : 0x80000;
        public static readonly int ELOOP = OperatingSystem.IsMacOS() ? 62 : 40;

        // O_NOFOLLOW differs between Linux architectures (x86 0x20000, the generic ABI of arm64 0x8000).
        public static readonly int O_NOFOLLOW = OperatingSystem.IsMacOS() ? 0x100
            : RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm or Architecture.RiscV64 or Architecture.LoongArch64 ? 0x8000 : 0x20000;

        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Open(string path, int flags, int mode);

        [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
        public static partial int Close(int fd);

        [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
        public static unsafe partial nint Write(int fd, byte* buffer, nuint count);

        [LibraryImport("libc", EntryPoint = "pread", SetLastError = true)]
        public static unsafe partial nint Pread(int fd, byte* buffer, nuint count, long offset);

        public const int LOCK_EX = 2;
        public const int LOCK_NB = 4;
        public const int LOCK_UN = 8;

        [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
        public static partial int Flock(int fd, int operation);

        [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
        public static partial long Lseek(int fd, long offset, int whence);

        [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Statx(int dirfd, string path, int flags, uint mask, ref byte buffer);

        [LibraryImport("libc", EntryPoint = "fstat", SetLastError = true)]
        public static partial int Fstat(int fd, ref byte buffer);
    }
}

using System.Runtime.InteropServices;
using System.Text;

namespace Egress.Isolation.Native;

/// <summary>
/// One end of the <c>SOCK_SEQPACKET</c> socket pair between <c>run</c> and its in-namespace agent. Each
/// message is one short UTF-8 line and may carry descriptors (<c>SCM_RIGHTS</c>): that is how listening
/// sockets created inside the namespace reach the policy outside, so no byte of a connection passes
/// through a second hop. Written by hand because .NET has no public API for descriptor passing.
/// Calls block; the owner reads on one dedicated thread and writes from any thread (sends are atomic).
/// </summary>
internal sealed unsafe class ControlChannel : IDisposable
{
    /// <summary>Longest message (text) either side sends.</summary>
    public const int MaxMessageBytes = 4096;

    /// <summary>Most descriptors one message carries.</summary>
    public const int MaxDescriptors = 16;

    private const int CmsgHeaderSize = 16;
    private int _fd;

    /// <summary>Wraps an open descriptor (owned from now on).</summary>
    public ControlChannel(int fd) => _fd = fd;

    /// <summary>The descriptor.</summary>
    public int Descriptor => _fd;

    /// <summary>
    /// Creates the pair: the first end stays close-on-exec (this process keeps it); the second end is
    /// inheritable, to be handed to the agent through exec, and must be closed here once the agent started.
    /// </summary>
    public static (ControlChannel Parent, int ChildFd) CreatePair()
    {
        int* fds = stackalloc int[2];
        if (Libc.SocketPair(Libc.AfUnix, Libc.SockSeqPacket | Libc.SockCloexec, 0, fds) != 0)
        {
            throw new IsolationException($"cannot create the control socket pair: {Libc.LastError()}");
        }

        if (Libc.Fcntl(fds[1], Libc.FSetFd, 0) != 0)
        {
            string error = Libc.LastError();
            Libc.Close(fds[0]);
            Libc.Close(fds[1]);
            throw new IsolationException($"cannot make the control socket inheritable: {error}");
        }

        return (new ControlChannel(fds[0]), fds[1]);
    }

    /// <summary>Marks <paramref name="fd"/> close-on-exec (the agent does this to its inherited end).</summary>
    public static void SetCloseOnExec(int fd)
    {
        if (Libc.Fcntl(fd, Libc.FSetFd, Libc.FdCloexec) != 0)
        {
            throw new IsolationException($"cannot mark descriptor {fd} close-on-exec: {Libc.LastError()}");
        }
    }

    /// <summary>Sends one message with optional descriptors (which stay open here; the receiver gets copies).</summary>
    /// <exception cref="IOException">The peer is gone or the send failed.</exception>
    public void Send(string text, ReadOnlySpan<int> descriptors = default)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length > MaxMessageBytes || descriptors.Length > MaxDescriptors)
        {
            throw new ArgumentException("control message too large", nameof(text));
        }

        int controlLength = descriptors.IsEmpty ? 0 : CmsgHeaderSize + Align(descriptors.Length * sizeof(int));
        byte* control = stackalloc byte[CmsgHeaderSize + (MaxDescriptors * sizeof(int))];
        fixed (byte* data = bytes)
        {
            var iov = new Libc.IoVec { Base = (nint)data, Length = (nuint)bytes.Length };
            var header = new Libc.MsgHdr { Iov = (nint)(&iov), IovLength = 1 };
            if (!descriptors.IsEmpty)
            {
                new Span<byte>(control, controlLength).Clear();
                var cmsg = (Libc.CmsgHdr*)control;
                cmsg->Length = (nuint)(CmsgHeaderSize + (descriptors.Length * sizeof(int)));
                cmsg->Level = Libc.SolSocket;
                cmsg->Type = Libc.ScmRights;
                descriptors.CopyTo(new Span<int>(control + CmsgHeaderSize, descriptors.Length));
                header.Control = (nint)control;
                header.ControlLength = (nuint)controlLength;
            }

            while (true)
            {
                nint sent = Libc.SendMsg(_fd, &header, 0x4000 /* MSG_NOSIGNAL */);
                if (sent >= 0)
                {
                    return;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno != Libc.Eintr)
                {
                    throw new IOException($"isolation control channel: send failed: {Libc.Describe(errno)}");
                }
            }
        }
    }

    /// <summary>
    /// Receives one message; false at end of stream (the peer closed or exited). Received descriptors are
    /// appended to <paramref name="descriptors"/> (close-on-exec) and owned by the caller.
    /// </summary>
    public bool TryReceive(out string text, List<int> descriptors)
    {
        ArgumentNullException.ThrowIfNull(descriptors);
        byte* data = stackalloc byte[MaxMessageBytes];
        int controlSize = CmsgHeaderSize + (MaxDescriptors * sizeof(int));
        byte* control = stackalloc byte[controlSize];
        while (true)
        {
            var iov = new Libc.IoVec { Base = (nint)data, Length = MaxMessageBytes };
            var header = new Libc.MsgHdr { Iov = (nint)(&iov), IovLength = 1, Control = (nint)control, ControlLength = (nuint)controlSize };
            nint received = Libc.RecvMsg(_fd, &header, Libc.MsgCmsgCloexec);
            if (received < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Libc.Eintr)
                {
                    continue;
                }

                text = string.Empty;
                return false;
            }

            if (header.ControlLength >= CmsgHeaderSize)
            {
                var cmsg = (Libc.CmsgHdr*)control;
                if (cmsg->Level == Libc.SolSocket && cmsg->Type == Libc.ScmRights)
                {
                    int count = ((int)cmsg->Length - CmsgHeaderSize) / sizeof(int);
                    for (int i = 0; i < count; i++)
                    {
                        descriptors.Add(((int*)(control + CmsgHeaderSize))[i]);
                    }
                }
            }

            if (received == 0 && header.ControlLength == 0)
            {
                text = string.Empty;
                return false;
            }

            text = Encoding.UTF8.GetString(data, (int)received);
            return true;
        }
    }

    /// <summary>Wakes a thread blocked in <see cref="TryReceive"/> (it then returns false).</summary>
    public void ShutdownBoth()
    {
        if (_fd >= 0)
        {
            Libc.Shutdown(_fd, 2);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            Libc.Close(fd);
        }
    }

    private static int Align(int length) => (length + 7) & ~7;
}

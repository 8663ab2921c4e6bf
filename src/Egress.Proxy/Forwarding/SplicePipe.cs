namespace Egress.Proxy.Forwarding;

/// <summary>A kernel pipe that bytes pass through between two sockets (never read into user space but to unblock a full destination).</summary>
internal sealed class SplicePipe : IDisposable
{
    private SplicePipe(int readFd, int writeFd)
    {
        ReadFd = readFd;
        WriteFd = writeFd;
    }

    /// <summary>The read end.</summary>
    public int ReadFd { get; }

    /// <summary>The write end.</summary>
    public int WriteFd { get; }

    /// <summary>Bytes spliced in and not yet out; a pipe goes back to the pool only when this is 0.</summary>
    public long Pending { get; set; }

    /// <summary>Creates a pipe of about <paramref name="size"/> bytes; null (errno in <paramref name="error"/>) when none can be made.</summary>
    public static SplicePipe? TryCreate(int size, out int error)
    {
        if (!SpliceNative.TryCreatePipe(out int r, out int w, out error))
        {
            return null;
        }

        SpliceNative.TrySetPipeSize(w, size);
        return new SplicePipe(r, w);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _ = SpliceNative.Close(ReadFd);
        _ = SpliceNative.Close(WriteFd);
    }
}

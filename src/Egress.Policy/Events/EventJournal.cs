using System.Runtime.InteropServices;
using System.Text.Json;
using Egress.Policy.Configuration;
using Egress.Policy.FileSystem;

namespace Egress.Policy.Events;

/// <summary>
/// The cross-process JSON-lines journal (<c>EGRESS_EVENTS_FILE</c>). Each event is one line written by a
/// single <c>write(2)</c> on an <c>O_APPEND</c> descriptor, so concurrent writers in many processes never
/// tear or interleave lines, and every record starts at a line boundary: when the file does not end in a
/// newline (a foreign or torn write), the record is written after one. The file is opened without following
/// a symbolic link and must be a regular file. Readers resynchronise, and count and number the lines they
/// cannot read. With a <see cref="JournalIntegrity"/> key every line carries an HMAC.
/// </summary>
public sealed partial class EventJournal : IDisposable
{
    /// <summary>Longest line a reader accepts; longer lines are skipped as unreadable.</summary>
    public const int MaxLineBytes = 64 * 1024;

    private readonly Lock _gate = new();
    private int _fd = -1;
    private FileStream? _fallback;
    private bool _disposed;

    /// <summary>Opens (lazily, on first append) the journal at <paramref name="path"/>, without integrity MACs.</summary>
    public EventJournal(string path)
        : this(path, null)
    {
    }

    /// <summary>Opens (lazily, on first append) the journal at <paramref name="path"/>.</summary>
    /// <param name="path">The journal file.</param>
    /// <param name="integrity">Signs every line (<c>EGRESS_EVENTS_KEY</c>), or <see langword="null"/>.</param>
    public EventJournal(string path, JournalIntegrity? integrity)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
        Integrity = integrity;
    }

    /// <summary>Full path of the journal file.</summary>
    public string Path { get; }

    /// <summary>The integrity mode lines are signed with, or <see langword="null"/>.</summary>
    public JournalIntegrity? Integrity { get; }

    /// <summary>
    /// Appends one event as one line. Throws <see cref="IOException"/> naming the path when the journal cannot
    /// be written (missing directory, a link, FIFO or device instead of a regular file, an unusable key).
    /// </summary>
    public void Append(EgressEvent evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        if (Integrity?.Error is { } keyError)
        {
            throw new IOException($"event journal {Path} ({EgressEnvironment.EventsFile}) not written: {keyError}");
        }

        byte[] line = Serialize(evt, Integrity);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (OperatingSystem.IsWindows())
            {
                _fallback ??= new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                _fallback.Write(line);
                _fallback.Flush();
                return;
            }

            if (_fd < 0)
            {
                _fd = RegularFile.OpenAppend(Path, EgressEnvironment.EventsFile);
            }

            // Our writers take a short advisory lock around "does the file end in a newline?" + write: without
            // it, another writer's append seen half-way (i_size grows page by page) looks like a torn line and
            // adds a blank one. The lock is only tried for a bounded time, so a process that holds it forever
            // cannot wedge decisions: then the record is written after a newline, which is always safe.
            bool locked = TryLock();
            try
            {
                WriteFully(locked && AtLineBoundary() ? line : [(byte)'\n', .. line]);
            }
            finally
            {
                if (locked)
                {
                    _ = RegularFile.Native.Flock(_fd, RegularFile.Native.LOCK_UN);
                }
            }
        }
    }

    /// <summary>Serialises <paramref name="evt"/> as one UTF-8 JSON line ending in '\n'.</summary>
    public static byte[] Serialize(EgressEvent evt) => Serialize(evt, null);

    /// <summary>Serialises <paramref name="evt"/> as one UTF-8 JSON line ending in '\n', signed when <paramref name="integrity"/> is given.</summary>
    public static byte[] Serialize(EgressEvent evt, JournalIntegrity? integrity)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(evt, EgressJsonContext.Default.EgressEvent);
        if (integrity is not null)
        {
            json = integrity.Sign(json);
        }

        var line = new byte[json.Length + 1];
        json.CopyTo(line, 0);
        line[^1] = (byte)'\n';
        return line;
    }

    /// <summary>Parses one journal line; <see langword="null"/> when it is not a valid event.</summary>
    public static EgressEvent? TryParseLine(ReadOnlySpan<byte> line)
    {
        try
        {
            var evt = JsonSerializer.Deserialize(line, EgressJsonContext.Default.EgressEvent);

            // Another process wrote this line; JSON null where a string belongs is a foreign line, not a crash later.
            if (evt is not { Action: "ALLOW" or "DENY" } || string.IsNullOrEmpty(evt.Host))
            {
                return null;
            }

            return evt.Reason is null || evt.Source is null
                ? evt with { Reason = evt.Reason ?? string.Empty, Source = evt.Source ?? string.Empty }
                : evt;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            if (_fd >= 0)
            {
                _ = RegularFile.Native.Close(_fd);
                _fd = -1;
            }

            _fallback?.Dispose();
        }
    }

    /// <summary>Tries the journal's advisory lock for at most about 50 ms.</summary>
    private bool TryLock()
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            if (RegularFile.Native.Flock(_fd, RegularFile.Native.LOCK_EX | RegularFile.Native.LOCK_NB) == 0)
            {
                return true;
            }

            if (attempt < 10)
            {
                Thread.SpinWait(64);
            }
            else
            {
                Thread.Sleep(1);
            }
        }

        return false;
    }

    /// <summary>Whether the file is empty or ends in a newline (the last byte, read with <c>pread</c>; the write offset is unaffected).</summary>
    private unsafe bool AtLineBoundary()
    {
        long size = RegularFile.Native.Lseek(_fd, 0, RegularFile.Native.SEEK_END);
        if (size <= 0)
        {
            return true;
        }

        byte last = 0;
        nint n = RegularFile.Native.Pread(_fd, &last, 1, size - 1);
        return n == 1 && last == (byte)'\n';
    }

    private unsafe void WriteFully(byte[] line)
    {
        fixed (byte* p = line)
        {
            // A regular-file append of a few hundred bytes completes in one write; loop only for EINTR/short writes.
            int offset = 0;
            while (offset < line.Length)
            {
                nint written = RegularFile.Native.Write(_fd, p + offset, (nuint)(line.Length - offset));
                if (written < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == 4 /* EINTR */)
                    {
                        continue;
                    }

                    throw new IOException($"cannot append to event journal {Path} (EGRESS_EVENTS_FILE): {Marshal.GetPInvokeErrorMessage(errno)}");
                }

                offset += (int)written;
            }
        }
    }
}

using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Egress.Policy.Events;

/// <summary>
/// The cross-process JSON-lines journal (<c>EGRESS_EVENTS_FILE</c>). Each event is one line written by a
/// single <c>write(2)</c> on an <c>O_APPEND</c> descriptor, so concurrent writers in many processes never
/// tear or interleave lines. Readers skip (and count) lines they cannot parse.
/// </summary>
public sealed partial class EventJournal : IDisposable
{
    /// <summary>Longest line a reader accepts; longer lines are skipped as unreadable.</summary>
    public const int MaxLineBytes = 64 * 1024;

    private readonly Lock _gate = new();
    private int _fd = -1;
    private FileStream? _fallback;
    private bool _disposed;

    /// <summary>Opens (lazily, on first append) the journal at <paramref name="path"/>.</summary>
    public EventJournal(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        Path = System.IO.Path.GetFullPath(path);
    }

    /// <summary>Full path of the journal file.</summary>
    public string Path { get; }

    /// <summary>Appends one event as one line. Throws <see cref="IOException"/> when the write fails.</summary>
    public void Append(EgressEvent evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        byte[] line = Serialize(evt);
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
                _fd = Native.Open(Path, Native.O_WRONLY | Native.O_APPEND | Native.O_CREAT | Native.O_CLOEXEC, 0x1A4 /* 0644 */);
                if (_fd < 0)
                {
                    throw new IOException($"cannot open event journal {Path} (EGRESS_EVENTS_FILE): {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
                }
            }

            WriteFully(line);
        }
    }

    /// <summary>Serialises <paramref name="evt"/> as one UTF-8 JSON line ending in '\n'.</summary>
    public static byte[] Serialize(EgressEvent evt)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(evt, EgressJsonContext.Default.EgressEvent);
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

    /// <summary>
    /// Streams the events of the journal at <paramref name="path"/> to <paramref name="onEvent"/>.
    /// Returns the number of lines skipped as unreadable. A missing file has no events.
    /// </summary>
    public static JournalReadResult Read(string path, Action<EgressEvent> onEvent)
    {
        ArgumentNullException.ThrowIfNull(onEvent);
        if (!File.Exists(path))
        {
            return new JournalReadResult(0, 0);
        }

        long read = 0, skipped = 0;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024);
        var buffer = new byte[MaxLineBytes + 1];
        int filled = 0;
        bool discarding = false;
        while (true)
        {
            int n = stream.Read(buffer, filled, buffer.Length - filled);
            if (n == 0)
            {
                break;
            }

            filled += n;
            int start = 0;
            while (true)
            {
                int nl = Array.IndexOf(buffer, (byte)'\n', start, filled - start);
                if (nl < 0)
                {
                    break;
                }

                if (discarding)
                {
                    discarding = false;
                }
                else
                {
                    Consume(buffer.AsSpan(start, nl - start));
                }

                start = nl + 1;
            }

            // Keep the partial line; a line longer than the buffer is skipped whole.
            Array.Copy(buffer, start, buffer, 0, filled - start);
            filled -= start;
            if (filled == buffer.Length)
            {
                if (!discarding)
                {
                    skipped++;
                }

                discarding = true;
                filled = 0;
            }
        }

        if (filled > 0 && !discarding)
        {
            Consume(buffer.AsSpan(0, filled)); // last line without '\n' (a writer may still be mid-way)
        }

        return new JournalReadResult(read, skipped);

        void Consume(ReadOnlySpan<byte> line)
        {
            if (line.IsEmpty || line.Trim((byte)' ').IsEmpty || (line.Length == 1 && line[0] == '\r'))
            {
                return;
            }

            if (TryParseLine(line) is { } evt)
            {
                read++;
                onEvent(evt);
            }
            else
            {
                skipped++;
            }
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
                _ = Native.Close(_fd);
                _fd = -1;
            }

            _fallback?.Dispose();
        }
    }

    private unsafe void WriteFully(byte[] line)
    {
        fixed (byte* p = line)
        {
            // A regular-file append of a few hundred bytes completes in one write; loop only for EINTR/short writes.
            int offset = 0;
            while (offset < line.Length)
            {
                nint written = Native.Write(_fd, p + offset, (nuint)(line.Length - offset));
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

    private static partial class Native
    {
        public const int O_WRONLY = 0x1;
        public static readonly int O_CREAT = OperatingSystem.IsMacOS() ? 0x200 : 0x40;
        public static readonly int O_APPEND = OperatingSystem.IsMacOS() ? 0x8 : 0x400;
        public static readonly int O_CLOEXEC = OperatingSystem.IsMacOS() ? 0x1000000 : 0x80000;

        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        public static partial int Open(string path, int flags, int mode);

        [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
        public static unsafe partial nint Write(int fd, byte* buffer, nuint count);

        [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
        public static partial int Close(int fd);
    }
}

/// <summary>What a journal read found.</summary>
/// <param name="Events">Events read.</param>
/// <param name="SkippedLines">Lines that were not valid events (torn, foreign or oversized).</param>
public readonly record struct JournalReadResult(long Events, long SkippedLines);

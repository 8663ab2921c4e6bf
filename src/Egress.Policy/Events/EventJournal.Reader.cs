using System.Buffers;
using Egress.Policy.Configuration;
using Egress.Policy.FileSystem;

namespace Egress.Policy.Events;

/// <summary>Reading the journal: line by line in bounded memory, resynchronising on record starts.</summary>
public sealed partial class EventJournal
{
    // Every record the writer serialises starts with its first member; a JSON string cannot contain these bytes
    // unescaped, so they mark a record start even inside a line glued to foreign bytes.
    private static ReadOnlySpan<byte> RecordStart => "{\"ts\":"u8;

    /// <summary>
    /// Streams the events of the journal at <paramref name="path"/> to <paramref name="onEvent"/>, without
    /// integrity checks. A missing file has no events.
    /// </summary>
    /// <exception cref="IOException">The journal is not a regular file (link, FIFO, device, directory) or cannot be read.</exception>
    public static JournalReadResult Read(string path, Action<EgressEvent> onEvent) => Read(path, onEvent, null);

    /// <summary>
    /// Streams the events of the journal at <paramref name="path"/> to <paramref name="onEvent"/>. With
    /// <paramref name="integrity"/>, only lines whose MAC verifies are events; the others are counted and numbered.
    /// </summary>
    /// <exception cref="IOException">The journal is not a regular file (link, FIFO, device, directory) or cannot be read.</exception>
    public static JournalReadResult Read(string path, Action<EgressEvent> onEvent, JournalIntegrity? integrity)
    {
        ArgumentNullException.ThrowIfNull(onEvent);
        using var stream = RegularFile.OpenRead(path, EgressEnvironment.EventsFile);
        return (stream is null
            ? JournalReadResult.Empty with { IntegrityChecked = integrity is not null, IntegrityError = integrity?.Error }
            : Read(stream, onEvent, integrity)) with { Path = path };
    }

    /// <summary>Streams the events of a journal held in <paramref name="stream"/> (see <see cref="Read(string, Action{EgressEvent}, JournalIntegrity?)"/>).</summary>
    public static JournalReadResult Read(Stream stream, Action<EgressEvent> onEvent, JournalIntegrity? integrity = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(onEvent);
        var state = new ReadState(onEvent, integrity);
        const int Capacity = MaxLineBytes + 1;
        var buffer = ArrayPool<byte>.Shared.Rent(Capacity); // may be larger; only Capacity bytes are used
        try
        {
            int filled = 0;
            bool discarding = false;
            while (true)
            {
                int n = stream.Read(buffer, filled, Capacity - filled);
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

                    state.Line++;
                    if (discarding)
                    {
                        discarding = false; // the over-long line was counted when it overflowed
                    }
                    else
                    {
                        state.Consume(buffer.AsSpan(start, nl - start));
                    }

                    start = nl + 1;
                }

                // Keep the partial line; a line longer than the buffer is skipped whole.
                Array.Copy(buffer, start, buffer, 0, filled - start);
                filled -= start;
                if (filled == Capacity)
                {
                    if (!discarding)
                    {
                        state.Unreadable(state.Line + 1);
                    }

                    discarding = true;
                    filled = 0;
                }
            }

            if (filled > 0 && !discarding)
            {
                state.Line++;
                state.Consume(buffer.AsSpan(0, filled)); // last line without '\n' (a writer may still be mid-way)
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return state.Result();
    }

    private sealed class ReadState(Action<EgressEvent> onEvent, JournalIntegrity? integrity)
    {
        private const int MaxRecoveryAttempts = 64;
        private readonly List<long> _unreadable = [];
        private readonly List<long> _unverified = [];
        private long _events, _unreadableCount, _unverifiedCount, _recovered;

        public long Line { get; set; }

        public void Consume(ReadOnlySpan<byte> line)
        {
            if (line.Length > 0 && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            if (line.Trim((byte)' ').IsEmpty)
            {
                return;
            }

            switch (TryRecord(line))
            {
                case true:
                    return;
                case null:
                    Unverified(Line);
                    return;
            }

            // Not one record: resynchronise on each record start inside the line, so that a foreign byte glued
            // before a DENY (or a torn line before it) cannot make the DENY disappear.
            Unreadable(Line);
            int attempts = 0;
            int from = line.StartsWith(RecordStart) ? 0 : NextStart(line, 0);
            while (from >= 0 && attempts++ < MaxRecoveryAttempts)
            {
                int next = NextStart(line, from + 1);
                var segment = next < 0 ? line[from..] : line[from..next];
                if (TryRecord(segment) == true)
                {
                    _recovered++;
                }

                from = next;
            }
        }

        public void Unreadable(long line)
        {
            _unreadableCount++;
            if (_unreadable.Count < JournalReadResult.MaxLineNumbers)
            {
                _unreadable.Add(line);
            }
        }

        public JournalReadResult Result() => new()
        {
            Events = _events,
            UnreadableLines = _unreadableCount,
            UnreadableLineNumbers = [.. _unreadable],
            RecoveredEvents = _recovered,
            UnverifiedLines = _unverifiedCount,
            UnverifiedLineNumbers = [.. _unverified],
            IntegrityChecked = integrity is not null,
            IntegrityError = integrity?.Error,
        };

        private static int NextStart(ReadOnlySpan<byte> line, int from)
        {
            if (from >= line.Length)
            {
                return -1;
            }

            int i = line[from..].IndexOf(RecordStart);
            return i < 0 ? -1 : from + i;
        }

        /// <summary>True: one event, delivered. Null: a well-formed event whose MAC does not verify. False: not an event.</summary>
        private bool? TryRecord(ReadOnlySpan<byte> bytes)
        {
            if (TryParseLine(bytes) is not { } evt)
            {
                return false;
            }

            if (integrity is not null && !integrity.Verify(bytes))
            {
                return null;
            }

            _events++;
            onEvent(evt);
            return true;
        }

        private void Unverified(long line)
        {
            _unverifiedCount++;
            if (_unverified.Count < JournalReadResult.MaxLineNumbers)
            {
                _unverified.Add(line);
            }
        }
    }
}

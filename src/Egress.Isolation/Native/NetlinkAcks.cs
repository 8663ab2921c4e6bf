namespace Egress.Isolation.Native;

/// <summary>
/// Matches the kernel's answers to a set of requests sent with <c>NLM_F_ACK</c>: each sequence number must get
/// its acknowledgement; a negative errno becomes an <see cref="IsolationException"/> naming the request's step
/// (e.g. "bringing lo up") and the errno text. Malformed answers are errors too (never a crash or a guess);
/// answers to other sequences (e.g. an nf_tables batch header) are errors when they carry one, else ignored.
/// </summary>
internal sealed class NetlinkAcks
{
    private readonly Dictionary<uint, string> _pending;
    private readonly string _subject;
    private readonly List<NetlinkReply> _replies = [];

    /// <summary>Expects an acknowledgement for each of <paramref name="steps"/> (sequence → what it does).</summary>
    public NetlinkAcks(IReadOnlyDictionary<uint, string> steps, string subject)
    {
        ArgumentNullException.ThrowIfNull(steps);
        _pending = new Dictionary<uint, string>(steps);
        _subject = subject;
    }

    /// <summary>Whether every request has been acknowledged.</summary>
    public bool Done => _pending.Count == 0;

    /// <summary>The first step still waiting, for a timeout message.</summary>
    public string? Waiting => _pending.Count == 0 ? null : _pending.MinBy(p => p.Key).Value;

    /// <summary>Takes one received datagram into account.</summary>
    /// <exception cref="IsolationException">The kernel refused a request, or answered with a malformed message.</exception>
    public void Accept(ReadOnlySpan<byte> datagram)
    {
        _replies.Clear();
        bool whole = NetlinkReply.TryParse(datagram, _replies);
        foreach (var reply in _replies)
        {
            if (reply.Type != NetlinkReply.TypeError)
            {
                continue;
            }

            bool ours = _pending.TryGetValue(reply.Sequence, out var step);
            if (reply.IsError)
            {
                string detail = reply.Detail is { Length: > 0 } d ? $" ({d})" : string.Empty;
                throw new IsolationException(ours
                    ? $"{_subject}: {step} failed: {Libc.Describe(-reply.Error)}{detail}"
                    : $"{_subject}: the kernel refused the request: {Libc.Describe(-reply.Error)}{detail}");
            }

            if (ours)
            {
                _pending.Remove(reply.Sequence);
            }
        }

        if (!whole)
        {
            throw new IsolationException($"{_subject}: malformed answer from the kernel ({datagram.Length} bytes) while {Waiting ?? "finishing"}");
        }
    }
}

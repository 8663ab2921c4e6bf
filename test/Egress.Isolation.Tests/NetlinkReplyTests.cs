using System.Buffers.Binary;
using System.Net.Sockets;
using CsCheck;
using Egress.Isolation.Native;
using Egress.TestUtils;

namespace Egress.Isolation.Tests;

/// <summary>
/// The netlink answer parser and the acknowledgement matcher the agent relies on: random and truncated bytes,
/// lengths that lie, multipart answers, NLMSG_ERROR with and without extended ACK (capped or not) — nothing
/// crashes, hangs or reads past a length, and an error is never taken for an acknowledgement.
/// </summary>
public sealed class NetlinkReplyTests
{
    private static readonly Gen<Message> AnyMessage = Gen.OneOf(
        Gen.UInt.Select(seq => new Message(NetlinkReply.TypeError, 0, seq, 0, null, 0, false, false)),
        Gen.Select(Gen.UInt, Gen.Int[1, 133], Gen.Bool, Gen.Bool, Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyz _-:"], 0, 60], Gen.Int[0, 40])
            .Select((seq, errno, tlvs, capped, text, echoed) => new Message(NetlinkReply.TypeError, (ushort)((tlvs ? NetlinkReply.FlagAckTlvs : 0) | (capped ? NetlinkReply.FlagCapped : 0)), seq, -errno, text, echoed, tlvs, capped)),
        Gen.Select(Gen.UShort[16, 200], Gen.UInt, Gen.Int[0, 64], Gen.Bool)
            .Select((type, seq, payload, multi) => new Message(type, multi ? NetlinkReply.FlagMulti : (ushort)0, seq, 0, null, payload, false, false)),
        Gen.UInt.Select(seq => new Message(NetlinkReply.TypeDone, NetlinkReply.FlagMulti, seq, 0, null, 4, false, false)));

    [Fact]
    public void RandomBytes_NeverThrow_AndYieldAtMostOneReplyPerHeader() =>
        Gen.Byte.Array[0, 400].Sample(bytes =>
        {
            var replies = new List<NetlinkReply>();
            _ = NetlinkReply.TryParse(bytes, replies);
            Assert.True(replies.Count <= bytes.Length / NetlinkMessageWriter.HeaderLength);
            try
            {
                new NetlinkAcks(new Dictionary<uint, string> { [1] = "step one" }, "test").Accept(bytes);
            }
            catch (IsolationException)
            {
                // a refusal or a malformed answer: an error the agent reports, never a crash
            }
        }, iter: 20_000);

    [Fact]
    public void WellFormedAnswers_ParseToExactlyWhatWasSent() =>
        AnyMessage.List[1, 8].Sample(messages =>
        {
            var replies = new List<NetlinkReply>();
            Assert.True(NetlinkReply.TryParse(Encode(messages), replies));
            Assert.Equal(messages.Select(m => m.Expected), replies);
        });

    [Fact]
    public void TruncatedAnswers_AreRejectedOrYieldOnlyWholeMessages() =>
        Gen.Select(AnyMessage.List[1, 6], Gen.Int[0, 100]).Sample((messages, percent) =>
        {
            byte[] bytes = Encode(messages);
            int cut = bytes.Length * percent / 100;
            var replies = new List<NetlinkReply>();
            bool whole = NetlinkReply.TryParse(bytes.AsSpan(0, cut), replies);
            Assert.True(replies.Count <= messages.Count);
            Assert.Equal(messages.Take(replies.Count).Select(m => m.Expected), replies);
            if (cut < bytes.Length && cut > 0)
            {
                // A cut inside a message is malformed unless it falls exactly on a message boundary.
                Assert.True(!whole || replies.Count < messages.Count);
            }
        });

    [Fact]
    public void ALengthBeyondTheDatagram_IsMalformed_NotRead()
    {
        byte[] ack = Encode([new Message(NetlinkReply.TypeError, 0, 7, 0, null, 0, false, false)]);
        BinaryPrimitives.WriteUInt32LittleEndian(ack, 4096);
        var replies = new List<NetlinkReply>();
        Assert.False(NetlinkReply.TryParse(ack, replies));
        Assert.Empty(replies);
        var ex = Assert.Throws<IsolationException>(() => new NetlinkAcks(new Dictionary<uint, string> { [7] = "bringing lo up" }, "setting up").Accept(ack));
        Assert.Contains("malformed answer", ex.Message, StringComparison.Ordinal);
        Assert.Contains("bringing lo up", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnErrorTooShortForItsErrno_IsMalformed_NeverAnAck()
    {
        var writer = new NetlinkMessageWriter();
        writer.BeginMessage(NetlinkReply.TypeError, 0, 3);
        writer.EndMessage();
        var acks = new NetlinkAcks(new Dictionary<uint, string> { [3] = "adding route ::/0 via lo" }, "setting up");
        Assert.Throws<IsolationException>(() => acks.Accept(writer.Written));
        Assert.False(acks.Done);
    }

    [Fact]
    public void Acks_InAnyOrderAndAnySplit_FinishOnlyWhenAllArrived() =>
        Gen.Select(Gen.Int[1, 12], Gen.Int[1, 4], Gen.Int).Sample((count, split, seed) =>
        {
            var steps = Enumerable.Range(1, count).ToDictionary(i => (uint)i, i => $"step {i}");
            var order = steps.Keys.OrderBy(k => HashCode.Combine(k, seed)).ToList();
            var acks = new NetlinkAcks(steps, "test");
            foreach (var chunk in order.Chunk(split))
            {
                Assert.False(acks.Done);
                // Unrelated chatter (multipart data, another sequence's ACK) changes nothing.
                acks.Accept(Encode([.. chunk.Select(s => new Message(NetlinkReply.TypeError, 0, s, 0, null, 0, false, false)),
                    new Message(40, NetlinkReply.FlagMulti, 999, 0, null, 8, false, false),
                    new Message(NetlinkReply.TypeError, 0, 1000, 0, null, 0, false, false)]));
            }

            Assert.True(acks.Done);
        });

    [Fact]
    public void AnError_NamesItsStepAndTheErrnoText_WithTheKernelsDetail() =>
        Gen.Select(Gen.Int[1, 5], Gen.Bool, Gen.Bool).Sample((failing, tlvs, capped) =>
        {
            var steps = Enumerable.Range(1, 5).ToDictionary(i => (uint)i, i => $"step {i}");
            var acks = new NetlinkAcks(steps, "installing");
            var error = new Message(NetlinkReply.TypeError, (ushort)((tlvs ? NetlinkReply.FlagAckTlvs : 0) | (capped ? NetlinkReply.FlagCapped : 0)), (uint)failing, -17, "Chain not found", 12, tlvs, capped);
            var ex = Assert.Throws<IsolationException>(() => acks.Accept(Encode([error])));
            Assert.StartsWith($"installing: step {failing} failed: File exists", ex.Message, StringComparison.Ordinal);
            Assert.Equal(tlvs, ex.Message.Contains("(Chain not found)", StringComparison.Ordinal));
            Assert.False(acks.Done);
        });

    [Fact]
    public void AnErrorForAnotherSequence_IsStillAnError()
    {
        var acks = new NetlinkAcks(new Dictionary<uint, string> { [2] = "creating table inet t" }, "installing");
        var ex = Assert.Throws<IsolationException>(() => acks.Accept(Encode([new Message(NetlinkReply.TypeError, 0, 1, -22, null, 0, false, false)])));
        Assert.Contains("the kernel refused the request: Invalid argument", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Detail_ControlCharactersAreReplaced()
    {
        var writer = new NetlinkMessageWriter();
        writer.BeginMessage(NetlinkReply.TypeError, NetlinkReply.FlagAckTlvs | NetlinkReply.FlagCapped, 1);
        BinaryPrimitives.WriteInt32LittleEndian(writer.Fixed(4), -1);
        BinaryPrimitives.WriteUInt32LittleEndian(writer.Fixed(16), 16);
        writer.Attribute(1, "bad\nline\u001b[31m");
        writer.EndMessage();
        var replies = new List<NetlinkReply>();
        Assert.True(NetlinkReply.TryParse(writer.Written, replies));
        Assert.Equal("bad?line?[31m", replies[0].Detail);
    }

    [Fact]
    public void Transact_AKernelThatFloodsOrSaysNothing_EndsWithAnError_NotAHang()
    {
        using var dir = new TempDirectory();
        using var ours = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        using var peer = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        var ourPath = new UnixDomainSocketEndPoint(Path.Combine(dir.Path, "a"));
        var peerPath = new UnixDomainSocketEndPoint(Path.Combine(dir.Path, "b"));
        ours.Bind(ourPath);
        peer.Bind(peerPath);
        ours.Connect(peerPath);
        peer.Connect(ourPath);
        ours.ReceiveTimeout = 300;
        var steps = new Dictionary<uint, string> { [1] = "bringing lo up" };

        // Nothing comes back: the receive timeout ends it.
        var silent = Assert.Throws<IsolationException>(() => NetlinkSocket.Transact(ours, [1, 2, 3, 4], steps, "setting up"));
        Assert.Contains("no answer from the kernel within 300 ms to bringing lo up", silent.Message, StringComparison.Ordinal);

        // Endless unrelated answers: a bounded number of datagrams, then an error.
        byte[] chatter = Encode([new Message(40, NetlinkReply.FlagMulti, 77, 0, null, 8, false, false)]);
        for (int i = 0; i < 40; i++)
        {
            peer.Send(chatter);
        }

        var flood = Assert.Throws<IsolationException>(() => NetlinkSocket.Transact(ours, [1, 2, 3, 4], steps, "setting up"));
        Assert.Contains("never acknowledged bringing lo up", flood.Message, StringComparison.Ordinal);
    }

    private static byte[] Encode(IEnumerable<Message> messages)
    {
        var writer = new NetlinkMessageWriter();
        foreach (var m in messages)
        {
            writer.BeginMessage(m.Type, m.Flags, m.Sequence);
            if (m.Type == NetlinkReply.TypeError)
            {
                BinaryPrimitives.WriteInt32LittleEndian(writer.Fixed(4), m.Error);
                var request = writer.Fixed(16);
                BinaryPrimitives.WriteUInt32LittleEndian(request, (uint)(16 + m.Payload));
                BinaryPrimitives.WriteUInt32LittleEndian(request[8..], m.Sequence);
                if (!m.Capped && m.Payload > 0)
                {
                    writer.Fixed(m.Payload).Fill(0xAB);
                }

                if (m.Tlvs)
                {
                    writer.AttributeHost(2, 20); // NLMSGERR_ATTR_OFFS before the text: the parser must skip it
                    writer.Attribute(1, m.Text ?? string.Empty);
                }
            }
            else if (m.Payload > 0)
            {
                writer.Fixed(m.Payload).Fill(0x5A);
            }

            writer.EndMessage();
        }

        return writer.Written.ToArray();
    }

    private sealed record Message(ushort Type, ushort Flags, uint Sequence, int Error, string? Text, int Payload, bool Tlvs, bool Capped)
    {
        public NetlinkReply Expected => new(Type, Flags, Sequence, Error, Tlvs ? Text ?? string.Empty : null);
    }
}

using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using A = Egress.Isolation.Native.NfTablesBatch.Attributes;

namespace Egress.Isolation.Native;

/// <summary>
/// The expressions of one nf_tables rule, built in the order <c>nft</c> emits them for the rule's text (see
/// <c>nft --debug=netlink</c>): loads into register 1 (<c>meta</c>, <c>payload</c>, <c>ct</c>), compares or set
/// lookups against it, then the statement (<c>immediate</c> verdict, <c>redir</c>, <c>log</c>). An anonymous set
/// (<c>{ a, b }</c>) is kept here and created by <see cref="NfTablesBatch.AddRule"/> just before the rule.
/// </summary>
internal sealed class NfRule
{
    /// <summary>nft's <c>inet_proto</c> datatype (a set of <c>meta l4proto</c> values).</summary>
    public const uint TypeInetProtocol = 12;

    /// <summary>nft's <c>inet_service</c> datatype (a set of ports).</summary>
    public const uint TypeInetService = 13;

    /// <summary>IPPROTO_TCP.</summary>
    public const byte Tcp = 6;

    /// <summary>IPPROTO_UDP.</summary>
    public const byte Udp = 17;

    /// <summary>IPPROTO_ICMP.</summary>
    public const byte Icmp = 1;

    /// <summary>IPPROTO_ICMPV6.</summary>
    public const byte Icmp6 = 58;

    private const uint Register1 = 1; // NFT_REG_1
    private const uint RegisterVerdict = 0; // NFT_REG_VERDICT
    private const uint MetaNfProto = 15; // NFT_META_NFPROTO
    private const uint MetaL4Proto = 16; // NFT_META_L4PROTO
    private const uint CtDirection = 1; // NFT_CT_DIRECTION
    private const uint PayloadNetwork = 1; // NFT_PAYLOAD_NETWORK_HEADER
    private const uint PayloadTransport = 2; // NFT_PAYLOAD_TRANSPORT_HEADER
    private const uint CompareEqual = 0; // NFT_CMP_EQ
    private const uint RangeProtoSpecified = 2; // NF_NAT_RANGE_PROTO_SPECIFIED
    private const byte NfProtoIPv4 = 2;
    private const byte NfProtoIPv6 = 10;

    private readonly List<Action<NetlinkMessageWriter, IReadOnlyList<uint>>> _expressions = [];
    private readonly List<NfSet> _sets = [];

    /// <summary>The anonymous sets the rule looks up, in order.</summary>
    public IReadOnlyList<NfSet> Sets => _sets;

    /// <summary><c>meta nfproto ipv4|ipv6</c>.</summary>
    public NfRule NfProto(AddressFamily family) =>
        Meta(MetaNfProto).Compare([family == AddressFamily.InterNetworkV6 ? NfProtoIPv6 : NfProtoIPv4]);

    /// <summary><c>meta l4proto <paramref name="protocol"/></c>.</summary>
    public NfRule L4Proto(byte protocol) => Meta(MetaL4Proto).Compare([protocol]);

    /// <summary><c>meta l4proto { … }</c>.</summary>
    public NfRule L4ProtoIn(params byte[] protocols) =>
        Meta(MetaL4Proto).Lookup(new NfSet(TypeInetProtocol, 1, [.. protocols.Distinct().Select(p => new[] { p })]));

    /// <summary><c>ip daddr A</c> / <c>ip6 daddr A</c> (in an inet table with nft's implicit <c>meta nfproto</c>).</summary>
    public NfRule DestinationAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        bool v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        return NfProto(address.AddressFamily).Payload(PayloadNetwork, v6 ? 24u : 16u, v6 ? 16u : 4u).Compare(address.GetAddressBytes());
    }

    /// <summary><c>th dport P</c> (no protocol dependency, as nft writes it after an l4proto match).</summary>
    public NfRule TransportDestinationPort(int port) => Payload(PayloadTransport, 2, 2).Compare(Port(port));

    /// <summary><c>th dport { … }</c>.</summary>
    public NfRule TransportDestinationPortIn(IEnumerable<int> ports) =>
        Payload(PayloadTransport, 2, 2).Lookup(new NfSet(TypeInetService, 2, [.. ports.Distinct().Order().Select(Port)]));

    /// <summary><c>ct direction reply</c>.</summary>
    public NfRule ConntrackReply() =>
        Add("ct", w =>
        {
            w.AttributeBigEndian(1, Register1); // NFTA_CT_DREG
            w.AttributeBigEndian(2, CtDirection); // NFTA_CT_KEY
        }).Compare([1]); // IP_CT_DIR_REPLY

    /// <summary><c>redirect to :P</c>.</summary>
    public NfRule RedirectTo(int port)
    {
        byte[] value = Port(port);
        return Add("immediate", w =>
        {
            w.AttributeBigEndian(1, Register1); // NFTA_IMMEDIATE_DREG
            int data = w.BeginNested(2); // NFTA_IMMEDIATE_DATA
            w.Attribute(A.DataValue, value);
            w.EndNested(data);
        }).Add("redir", w =>
        {
            w.AttributeBigEndian(1, Register1); // NFTA_REDIR_REG_PROTO_MIN
            w.AttributeBigEndian(3, RangeProtoSpecified); // NFTA_REDIR_FLAGS
        });
    }

    /// <summary><c>log group G snaplen S</c>.</summary>
    public NfRule Log(ushort group, int snapLength) =>
        Add("log", w =>
        {
            w.AttributeBigEndian(1, group); // NFTA_LOG_GROUP
            w.AttributeBigEndian(3, (uint)snapLength); // NFTA_LOG_SNAPLEN
        });

    /// <summary>The verdict (<see cref="NfTablesBatch.Accept"/>, <see cref="NfTablesBatch.Drop"/>).</summary>
    public NfRule Verdict(uint code) =>
        Add("immediate", w =>
        {
            w.AttributeBigEndian(1, RegisterVerdict); // NFTA_IMMEDIATE_DREG
            int data = w.BeginNested(2); // NFTA_IMMEDIATE_DATA
            int verdict = w.BeginNested(A.DataVerdict);
            w.AttributeBigEndian(A.VerdictCode, code);
            w.EndNested(verdict);
            w.EndNested(data);
        });

    /// <summary>Writes the expression list (inside <c>NFTA_RULE_EXPRESSIONS</c>); <paramref name="setIds"/> are the batch ids of <see cref="Sets"/>.</summary>
    public void Write(NetlinkMessageWriter writer, IReadOnlyList<uint> setIds)
    {
        ArgumentNullException.ThrowIfNull(writer);
        foreach (var expression in _expressions)
        {
            expression(writer, setIds);
        }
    }

    private static byte[] Port(int port)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)port);
        return bytes;
    }

    private NfRule Meta(uint key) =>
        Add("meta", w =>
        {
            w.AttributeBigEndian(1, Register1); // NFTA_META_DREG
            w.AttributeBigEndian(2, key); // NFTA_META_KEY
        });

    private NfRule Payload(uint payloadBase, uint offset, uint length) =>
        Add("payload", w =>
        {
            w.AttributeBigEndian(1, Register1); // NFTA_PAYLOAD_DREG
            w.AttributeBigEndian(2, payloadBase); // NFTA_PAYLOAD_BASE
            w.AttributeBigEndian(3, offset); // NFTA_PAYLOAD_OFFSET
            w.AttributeBigEndian(4, length); // NFTA_PAYLOAD_LEN
        });

    private NfRule Compare(byte[] value) =>
        Add("cmp", w =>
        {
            w.AttributeBigEndian(1, Register1); // NFTA_CMP_SREG
            w.AttributeBigEndian(2, CompareEqual); // NFTA_CMP_OP
            int data = w.BeginNested(3); // NFTA_CMP_DATA
            w.Attribute(A.DataValue, value);
            w.EndNested(data);
        });

    private NfRule Lookup(NfSet set)
    {
        int index = _sets.Count;
        _sets.Add(set);
        _expressions.Add((w, ids) => WriteExpression(w, "lookup", w =>
        {
            w.Attribute(1, A.AnonymousSetName); // NFTA_LOOKUP_SET
            w.AttributeBigEndian(2, Register1); // NFTA_LOOKUP_SREG
            w.AttributeBigEndian(4, ids[index]); // NFTA_LOOKUP_SET_ID
        }));
        return this;
    }

    private NfRule Add(string name, Action<NetlinkMessageWriter> data)
    {
        _expressions.Add((w, _) => WriteExpression(w, name, data));
        return this;
    }

    private static void WriteExpression(NetlinkMessageWriter writer, string name, Action<NetlinkMessageWriter> data)
    {
        int element = writer.BeginNested(A.ListElement);
        writer.Attribute(A.ExpressionName, name);
        int nested = writer.BeginNested(A.ExpressionData);
        data(writer);
        writer.EndNested(nested);
        writer.EndNested(element);
    }
}

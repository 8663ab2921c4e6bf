using System.Buffers.Binary;
using System.Globalization;

namespace Egress.Isolation.Native;

/// <summary>
/// One nf_tables transaction (<c>NFNL_MSG_BATCH_BEGIN</c> … <c>END</c> on a <c>NETLINK_NETFILTER</c> socket)
/// creating an <c>inet</c> table, its base chains (hook output, policy accept) and their rules: what
/// <c>nft -f</c> sends for a ruleset file, without starting <c>nft</c>. Written by hand — no .NET library
/// speaks nf_tables netlink (libnftnl is C); the expressions are those <c>nft --debug=netlink</c> prints for
/// the equivalent text, and the tests compare <c>nft list ruleset</c> of both. The kernel applies the batch
/// all or nothing; every message carries <c>NLM_F_ACK</c> and a refusal names its chain or rule.
/// </summary>
internal sealed class NfTablesBatch
{
    /// <summary><c>NF_ACCEPT</c>.</summary>
    public const uint Accept = 1;

    /// <summary><c>NF_DROP</c>.</summary>
    public const uint Drop = 0;

    private const ushort SubsystemNfTables = 10; // NFNL_SUBSYS_NFTABLES
    private const ushort BatchBegin = 0x10; // NFNL_MSG_BATCH_BEGIN
    private const ushort BatchEnd = 0x11; // NFNL_MSG_BATCH_END
    private const ushort NewTable = 0; // NFT_MSG_NEWTABLE
    private const ushort NewChain = 3; // NFT_MSG_NEWCHAIN
    private const ushort NewRule = 6; // NFT_MSG_NEWRULE
    private const ushort NewSet = 9; // NFT_MSG_NEWSET
    private const ushort NewSetElement = 12; // NFT_MSG_NEWSETELEM
    private const byte FamilyUnspecified = 0;
    private const byte FamilyInet = 1; // NFPROTO_INET
    private const uint HookLocalOut = 3; // NF_INET_LOCAL_OUT
    private const uint SetAnonymousConstant = 0x1 | 0x2; // NFT_SET_ANONYMOUS | NFT_SET_CONSTANT

    private readonly NetlinkMessageWriter _writer = new();
    private readonly Dictionary<uint, string> _steps = [];
    private readonly string _table;
    private uint _sequence;
    private uint _setId;
    private bool _committed;

    /// <summary>Starts the batch with the creation of table <c>inet <paramref name="table"/></c>.</summary>
    public NfTablesBatch(string table)
    {
        ArgumentException.ThrowIfNullOrEmpty(table);
        _table = table;
        Begin(BatchBegin, FamilyUnspecified, NetlinkSocket.FlagRequest, SubsystemNfTables, batchControl: true);
        _writer.EndMessage();

        Begin(NewTable, FamilyInet, NetlinkSocket.FlagCreate, 0, $"creating table inet {table}");
        _writer.Attribute(Attributes.TableName, table);
        _writer.AttributeBigEndian(Attributes.TableFlags, 0u);
        _writer.EndMessage();
    }

    /// <summary>A base chain on the output hook: <c>type <paramref name="type"/> hook output priority <paramref name="priority"/>; policy accept;</c>.</summary>
    public void AddChain(string name, string type, int priority)
    {
        Begin(NewChain, FamilyInet, NetlinkSocket.FlagCreate, 0, string.Create(CultureInfo.InvariantCulture, $"creating chain {name} (type {type} hook output priority {priority})"));
        _writer.Attribute(Attributes.ChainTable, _table);
        _writer.Attribute(Attributes.ChainName, name);
        int hook = _writer.BeginNested(Attributes.ChainHook);
        _writer.AttributeBigEndian(Attributes.HookNumber, HookLocalOut);
        _writer.AttributeBigEndian(Attributes.HookPriority, unchecked((uint)priority));
        _writer.EndNested(hook);
        _writer.AttributeBigEndian(Attributes.ChainPolicy, Accept);
        _writer.Attribute(Attributes.ChainType, type);
        _writer.EndMessage();
    }

    /// <summary>Appends a rule to <paramref name="chain"/>; <paramref name="text"/> (its nft form) names it in errors.</summary>
    public void AddRule(string chain, string text, NfRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        // Anonymous sets first (as nft does): created with their elements, referenced by the rule through the
        // batch-local set id (the kernel names them __set0, __set1, … itself).
        var setIds = new List<uint>(rule.Sets.Count);
        foreach (var set in rule.Sets)
        {
            uint id = ++_setId;
            setIds.Add(id);
            Begin(NewSet, FamilyInet, NetlinkSocket.FlagCreate, 0, $"creating the set of rule '{text}' in chain {chain}");
            _writer.Attribute(Attributes.SetTable, _table);
            _writer.Attribute(Attributes.SetName, Attributes.AnonymousSetName);
            _writer.AttributeBigEndian(Attributes.SetFlags, SetAnonymousConstant);
            _writer.AttributeBigEndian(Attributes.SetKeyType, set.KeyType);
            _writer.AttributeBigEndian(Attributes.SetKeyLength, (uint)set.KeyLength);
            _writer.AttributeBigEndian(Attributes.SetId, id);
            int description = _writer.BeginNested(Attributes.SetDescription);
            _writer.AttributeBigEndian(Attributes.SetDescriptionSize, (uint)set.Elements.Count);
            _writer.EndNested(description);
            _writer.EndMessage();

            Begin(NewSetElement, FamilyInet, NetlinkSocket.FlagCreate, 0, $"adding the elements of the set of rule '{text}' in chain {chain}");
            _writer.Attribute(Attributes.ElementListTable, _table);
            _writer.Attribute(Attributes.ElementListSet, Attributes.AnonymousSetName);
            _writer.AttributeBigEndian(Attributes.ElementListSetId, id);
            int elements = _writer.BeginNested(Attributes.ElementListElements);
            foreach (var element in set.Elements)
            {
                int item = _writer.BeginNested(Attributes.ListElement);
                int key = _writer.BeginNested(Attributes.ElementKey);
                _writer.Attribute(Attributes.DataValue, element);
                _writer.EndNested(key);
                _writer.EndNested(item);
            }

            _writer.EndNested(elements);
            _writer.EndMessage();
        }

        Begin(NewRule, FamilyInet, NetlinkSocket.FlagCreate | NetlinkSocket.FlagAppend, 0, $"adding rule '{text}' to chain {chain}");
        _writer.Attribute(Attributes.RuleTable, _table);
        _writer.Attribute(Attributes.RuleChain, chain);
        int expressions = _writer.BeginNested(Attributes.RuleExpressions);
        rule.Write(_writer, setIds);
        _writer.EndNested(expressions);
        _writer.EndMessage();
    }

    /// <summary>Sends the batch inside the current network namespace and checks every acknowledgement.</summary>
    /// <exception cref="IsolationException">The kernel refused; the message names the table, chain or rule.</exception>
    public void Commit()
    {
        if (_committed)
        {
            throw new InvalidOperationException("the batch was already sent");
        }

        _committed = true;
        Begin(BatchEnd, FamilyUnspecified, NetlinkSocket.FlagRequest, SubsystemNfTables, batchControl: true);
        _writer.EndMessage();
        using var socket = NetlinkSocket.Open(NetlinkSocket.Netfilter, "that installs the namespace's nftables rules (NETLINK_NETFILTER)");
        NetlinkSocket.Transact(socket, _writer.Written, _steps, $"installing the nftables table inet {_table}");
    }

    private void Begin(ushort message, byte family, ushort flags, ushort resourceId, string? step = null, bool batchControl = false)
    {
        uint sequence = ++_sequence;
        ushort type = batchControl ? message : (ushort)((SubsystemNfTables << 8) | message);
        if (!batchControl)
        {
            flags |= NetlinkSocket.FlagRequest | NetlinkSocket.FlagAck;
            _steps[sequence] = step ?? "a request";
        }

        _writer.BeginMessage(type, flags, sequence);
        var header = _writer.Fixed(4); // nfgenmsg: family, version (NFNETLINK_V0), res_id (big-endian)
        header[0] = family;
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], resourceId);
    }

    /// <summary>nf_tables attribute numbers (<c>linux/netfilter/nf_tables.h</c>).</summary>
    internal static class Attributes
    {
        public const string AnonymousSetName = "__set%d";
        public const ushort TableName = 1;
        public const ushort TableFlags = 2;
        public const ushort ChainTable = 1;
        public const ushort ChainName = 3;
        public const ushort ChainHook = 4;
        public const ushort ChainPolicy = 5;
        public const ushort ChainType = 7;
        public const ushort HookNumber = 1;
        public const ushort HookPriority = 2;
        public const ushort RuleTable = 1;
        public const ushort RuleChain = 2;
        public const ushort RuleExpressions = 4;
        public const ushort ListElement = 1;
        public const ushort ExpressionName = 1;
        public const ushort ExpressionData = 2;
        public const ushort SetTable = 1;
        public const ushort SetName = 2;
        public const ushort SetFlags = 3;
        public const ushort SetKeyType = 4;
        public const ushort SetKeyLength = 5;
        public const ushort SetDescription = 9;
        public const ushort SetId = 10;
        public const ushort SetDescriptionSize = 1;
        public const ushort ElementListTable = 1;
        public const ushort ElementListSet = 2;
        public const ushort ElementListElements = 3;
        public const ushort ElementListSetId = 4;
        public const ushort ElementKey = 1;
        public const ushort DataValue = 1;
        public const ushort DataVerdict = 2;
        public const ushort VerdictCode = 1;
    }
}

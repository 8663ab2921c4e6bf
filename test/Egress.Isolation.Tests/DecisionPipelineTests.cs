using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CsCheck;
using Egress.Isolation.Dns;
using Egress.Isolation.Udp;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Policy.Events;

namespace Egress.Isolation.Tests;

/// <summary>
/// DNS and UDP decide through the one pipeline (<c>BeginConnection</c>/<c>Evaluate</c>): every event they record
/// carries a decision time (so <c>egress_decision_duration_seconds</c> sees it), and a UDP datagram is a DENY whose
/// outcome says that UDP is not allowed at all, not that the host is missing from the allowlist. Reverse lookups:
/// only the synthetic addresses this run handed out are answered.
/// </summary>
public sealed class DecisionPipelineTests : IDisposable
{
    private readonly CapturingSink _sink = new();
    private readonly EgressPolicy _policy;

    public DecisionPipelineTests() => _policy = Create("allowed.example,127.0.0.1", enforce: true);

    public void Dispose() => _policy.Dispose();

    [Theory]
    [InlineData("allowed.example", "ALLOW")]
    [InlineData("denied.example", "DENY")]
    [InlineData("a%2Fb", "DENY")]
    public void Dns_EveryRecordedDecisionIsTimed(string name, string action)
    {
        var responder = new DnsResponder(_policy, new SyntheticAddressMap(16));
        var message = name == "a%2Fb"
            ? DnsTestMessages.Raw(1, 3, (byte)'a', (byte)'/', (byte)'b', 0, 0, 1, 0, 1)
            : DnsTestMessages.Query(name, DnsRecordTypes.A);

        responder.Respond(message, new byte[DnsResponder.MaxResponseLength]);

        var (evt, time) = Assert.Single(_sink.Written);
        Assert.Equal((action, "dns"), (evt.Action, evt.Source));
        Assert.NotNull(time);
    }

    [Fact]
    public void Dns_NameAllowedOnlyOnAPort_AnsweredAndTimed()
    {
        using var policy = Create("api.example:8443", enforce: true);
        var responder = new DnsResponder(policy, new SyntheticAddressMap(16));

        var response = new byte[DnsResponder.MaxResponseLength];
        int length = responder.Respond(DnsTestMessages.Query("api.example", DnsRecordTypes.A), response);

        Assert.Equal((int)DnsResponseCode.NoError, DnsTestMessages.ResponseCode(response.AsSpan(0, length)));
        var (evt, time) = Assert.Single(_sink.Written);
        Assert.Equal(("ALLOW", 0, "api.example:8443"), (evt.Action, evt.Port, evt.Token));
        Assert.NotNull(time);
    }

    [Fact]
    public void Udp_HostInTheAllowlist_DenyProtocolNotAllowedTimedWithoutToken()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var recorder = new UdpDenialRecorder(_policy, socket);

        recorder.RecordDatagram(IPAddress.Loopback, 5353);

        var (evt, time) = Assert.Single(_sink.Written);
        Assert.Equal(("DENY", "udp", "127.0.0.1", 5353), (evt.Action, evt.Source, evt.Host, evt.Port));
        Assert.Equal(EgressOutcome.ProtocolNotAllowed, evt.Outcome);
        Assert.Null(evt.Token);
        Assert.False(evt.WouldDeny);
        Assert.Equal(("127.0.0.1", "loopback"), (evt.Address, evt.Range));
        Assert.StartsWith("UDP is not allowed", evt.Reason, StringComparison.Ordinal);
        Assert.Contains("allows TCP to 127.0.0.1:5353, not UDP", evt.Reason, StringComparison.Ordinal);
        Assert.NotNull(time);
    }

    [Fact]
    public void Udp_AuditMode_StillADenyBecauseTheKernelDroppedIt()
    {
        using var policy = Create("allowed.example", enforce: false);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var recorder = new UdpDenialRecorder(policy, socket);

        recorder.RecordDatagram(IPAddress.Parse("192.0.2.1"), 9);

        var (evt, _) = Assert.Single(_sink.Written);
        Assert.Equal(("DENY", EgressOutcome.ProtocolNotAllowed, false), (evt.Action, evt.Outcome, evt.WouldDeny));
        Assert.DoesNotContain("allows TCP", evt.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Udp_OutcomeIsWrittenToTheJournalAsProtocolNotAllowed()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        new UdpDenialRecorder(_policy, socket).RecordDatagram(IPAddress.Loopback, 9);

        byte[] line = EventJournal.Serialize(_sink.Written[0].Event);
        string json = Encoding.UTF8.GetString(line);

        Assert.Contains("\"outcome\":\"protocol_not_allowed\"", json, StringComparison.Ordinal);
        Assert.Equal(EgressOutcome.ProtocolNotAllowed, EventJournal.TryParseLine(line.AsSpan().TrimEnd((byte)'\n'))!.Outcome);
        Assert.Equal("protocol_not_allowed", Egress.Policy.Telemetry.EgressMetrics.OutcomeName(EgressOutcome.ProtocolNotAllowed));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Ptr_OfAHandedOutSyntheticAddress_AnswersTheNameAndRecordsNothingNew(bool ipv6)
    {
        var responder = new DnsResponder(_policy, new SyntheticAddressMap(16));
        var response = new byte[DnsResponder.MaxResponseLength];
        responder.Respond(DnsTestMessages.Query("allowed.example", DnsRecordTypes.A), response);
        Assert.True(responder.Map.TryGetOrAdd("allowed.example", out var v4, out var v6, out _));

        var query = DnsTestMessages.Query(ReverseName.Of(ipv6 ? v6 : v4), DnsRecordTypes.DomainPointer);
        int length = responder.Respond(query, response);

        Assert.Equal((int)DnsResponseCode.NoError, DnsTestMessages.ResponseCode(response.AsSpan(0, length)));
        Assert.Equal(1, DnsTestMessages.AnswerCount(response.AsSpan(0, length)));
        Assert.Equal("allowed.example", PointerName(response.AsSpan(0, length), query.Length));
        Assert.Single(_sink.Written); // the A answer's ALLOW only
    }

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("127.0.0.1")]
    [InlineData("198.18.0.9")] // in the synthetic range, not handed out
    [InlineData("2001:db8::1")]
    public void Ptr_OfAnyOtherAddress_NxDomainAndATimedDeny(string address)
    {
        var responder = new DnsResponder(_policy, new SyntheticAddressMap(16));
        var response = new byte[DnsResponder.MaxResponseLength];
        string name = ReverseName.Of(IPAddress.Parse(address));

        int length = responder.Respond(DnsTestMessages.Query(name, DnsRecordTypes.DomainPointer), response);

        Assert.Equal((int)DnsResponseCode.NameError, DnsTestMessages.ResponseCode(response.AsSpan(0, length)));
        var (evt, time) = Assert.Single(_sink.Written);
        Assert.Equal(("DENY", "dns", name, EgressOutcome.InvalidDestination), (evt.Action, evt.Source, evt.Host, evt.Outcome));
        Assert.Contains("reverse DNS lookup", evt.Reason, StringComparison.Ordinal);
        Assert.NotNull(time);
        Assert.Equal(1, responder.Denied);
    }

    [Theory]
    [InlineData("secret-data.in-addr.arpa")]
    [InlineData("1.2.3.4.5.in-addr.arpa")]
    [InlineData("01.2.3.4.in-addr.arpa")]
    [InlineData("in-addr.arpa")]
    [InlineData("x.ip6.arpa")]
    public void Ptr_MalformedReverseNames_DeniedEvenWhenTheAllowlistNamesArpa(string name)
    {
        using var policy = Create("arpa,in-addr.arpa", enforce: true);
        var responder = new DnsResponder(policy, new SyntheticAddressMap(16));
        var response = new byte[DnsResponder.MaxResponseLength];

        int length = responder.Respond(DnsTestMessages.Query(name, DnsRecordTypes.Txt), response);

        Assert.Equal((int)DnsResponseCode.NameError, DnsTestMessages.ResponseCode(response.AsSpan(0, length)));
        Assert.Equal("DENY", Assert.Single(_sink.Written).Event.Action);
    }

    [Fact]
    public void ReverseName_RoundTripsEveryAddress()
    {
        Gen.Select(Gen.Bool, Gen.Byte.Array[16]).Sample((v6, bytes) =>
        {
            var address = new IPAddress(v6 ? bytes : bytes[..4]);
            return ReverseName.TryParse(ReverseName.Of(address), out var parsed) && address.Equals(parsed);
        });
    }

    [Fact]
    public void ReverseName_RandomLabels_NeverThrowAndParseOnlyExactForms()
    {
        Gen.String[Gen.Char["0123456789abcdef.x-"], 0, 80].Sample(prefix =>
        {
            foreach (var suffix in (string[])[".in-addr.arpa", ".ip6.arpa"])
            {
                if (ReverseName.TryParse(prefix + suffix, out var address) && ReverseName.Of(address!) != prefix + suffix)
                {
                    return false;
                }
            }

            return true;
        });
    }

    private static string PointerName(ReadOnlySpan<byte> response, int questionEnd)
    {
        var data = response[(questionEnd + 12)..];
        var sb = new StringBuilder();
        for (int i = 0; data[i] != 0; i += data[i] + 1)
        {
            sb.Append(sb.Length > 0 ? "." : string.Empty).Append(Encoding.ASCII.GetString(data.Slice(i + 1, data[i])));
        }

        Assert.Equal(BinaryPrimitives.ReadUInt16BigEndian(response[(questionEnd + 10)..]), sb.Length + 2);
        return sb.ToString();
    }

    private EgressPolicy Create(string allowlist, bool enforce) =>
        EgressPolicy.Create(new EgressOptions { Allowlist = [.. allowlist.Split(',')], Enforce = enforce, LogLevel = 0 }, TextWriter.Null, null, null, [_sink]);

    private sealed class CapturingSink : EgressEventSink
    {
        private readonly List<(EgressEvent Event, TimeSpan? Time)> _written = [];

        public IReadOnlyList<(EgressEvent Event, TimeSpan? Time)> Written
        {
            get
            {
                lock (_written)
                {
                    return [.. _written];
                }
            }
        }

        public override void Write(EgressEvent evt, TimeSpan? decisionTime)
        {
            lock (_written)
            {
                _written.Add((evt, decisionTime));
            }
        }
    }
}

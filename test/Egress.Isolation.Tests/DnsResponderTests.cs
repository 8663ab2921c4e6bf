using System.Buffers.Binary;
using System.Net;
using Egress.Isolation.Dns;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Policy.Events;

namespace Egress.Isolation.Tests;

public sealed class DnsResponderTests : IDisposable
{
    private readonly List<EgressEvent> _events = [];
    private EgressPolicy? _policy;

    [Fact]
    public void Respond_AllowedNameA_SyntheticIPv4AndOneAllowEvent()
    {
        var responder = Create("allowed.example");

        var (code, answer) = Ask(responder, "allowed.example", DnsRecordTypes.A);
        Ask(responder, "allowed.example", DnsRecordTypes.Aaaa);

        Assert.Equal(DnsResponseCode.NoError, code);
        Assert.True(SyntheticAddressMap.IPv4Range.Contains(answer!));
        Assert.True(responder.Map.TryGetName(answer!, out var name));
        Assert.Equal("allowed.example", name);
        var evt = Assert.Single(_events);
        Assert.Equal(("ALLOW", "allowed.example", "dns"), (evt.Action, evt.Host, evt.Source));
    }

    [Fact]
    public void Respond_AllowedNameAaaa_SyntheticIPv6OfTheSameName()
    {
        var responder = Create("example.org");

        var (_, v4) = Ask(responder, "api.example.org", DnsRecordTypes.A);
        var (code, v6) = Ask(responder, "API.example.org", DnsRecordTypes.Aaaa);

        Assert.Equal(DnsResponseCode.NoError, code);
        Assert.True(SyntheticAddressMap.IPv6Range.Contains(v6!));
        Assert.True(responder.Map.TryGetName(v6!, out var name));
        Assert.Equal("api.example.org", name);
        Assert.Equal(v4!.GetAddressBytes(), v6!.GetAddressBytes()[12..]);
    }

    [Theory]
    [InlineData(DnsRecordTypes.A)]
    [InlineData(DnsRecordTypes.Aaaa)]
    [InlineData(DnsRecordTypes.Txt)]
    [InlineData((ushort)15)] // MX
    [InlineData((ushort)255)] // ANY
    [InlineData((ushort)65)] // HTTPS
    public void Respond_DeniedName_NxDomainAndDenyEventForEveryType(ushort type)
    {
        var responder = Create("allowed.example");

        var (code, answer) = Ask(responder, "secret-data.denied.example", type);

        Assert.Equal(DnsResponseCode.NameError, code);
        Assert.Null(answer);
        var evt = Assert.Single(_events);
        Assert.Equal(("DENY", "secret-data.denied.example", "dns", 0), (evt.Action, evt.Host, evt.Source, evt.Port));
        Assert.Equal(0, responder.Map.Count);
    }

    [Theory]
    [InlineData(DnsRecordTypes.Txt)]
    [InlineData((ushort)15)]
    [InlineData((ushort)255)]
    public void Respond_AllowedNameOtherType_NoDataAndNoEvent(ushort type)
    {
        var responder = Create("allowed.example");

        var (code, answer) = Ask(responder, "allowed.example", type, out int answers);

        Assert.Equal(DnsResponseCode.NoError, code);
        Assert.Null(answer);
        Assert.Equal(0, answers);
        Assert.Empty(_events);
    }

    [Fact]
    public void Respond_NameAllowedOnlyOnAPort_IsAnswered()
    {
        var responder = Create("api.example.com:443,10.0.0.0/8:22");

        var (code, answer) = Ask(responder, "api.example.com", DnsRecordTypes.A);

        Assert.Equal(DnsResponseCode.NoError, code);
        Assert.NotNull(answer);
        Assert.Equal(0, Assert.Single(_events).Port);
    }

    [Theory]
    [InlineData("10.0.0.1")]
    [InlineData("127.0.0.1")]
    public void Respond_IpLiteralAsName_NxDomainAndDeny(string name)
    {
        var responder = Create("10.0.0.0/8,127.0.0.1");

        var (code, _) = Ask(responder, name, DnsRecordTypes.A);

        Assert.Equal(DnsResponseCode.NameError, code);
        Assert.Equal("DENY", Assert.Single(_events).Action);
    }

    [Fact]
    public void Respond_NonHostOctets_DeniedAsInvalidWithTheEscapedName()
    {
        var responder = Create("allowed.example");
        var message = DnsTestMessages.Raw(1, 3, (byte)'a', (byte)'/', (byte)'b', 0, 0, 16, 0, 1);
        var response = new byte[DnsResponder.MaxResponseLength];

        int length = responder.Respond(message, response);

        Assert.Equal((int)DnsResponseCode.NameError, DnsTestMessages.ResponseCode(response.AsSpan(0, length)));
        var evt = Assert.Single(_events);
        Assert.Equal(("DENY", "a%2Fb"), (evt.Action, evt.Host));
        Assert.Contains("not a host name", evt.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Respond_ChaosClassOfAllowedName_Refused()
    {
        var responder = Create("allowed.example");
        var response = new byte[DnsResponder.MaxResponseLength];

        int length = responder.Respond(DnsTestMessages.Query("allowed.example", DnsRecordTypes.Txt, @class: 3), response);

        Assert.Equal((int)DnsResponseCode.Refused, DnsTestMessages.ResponseCode(response.AsSpan(0, length)));
    }

    [Fact]
    public void Respond_AuditMode_DeniedNameAnsweredAndWouldDenyRecordedOnce()
    {
        var responder = Create("allowed.example", enforce: false);

        var (code, answer) = Ask(responder, "denied.example", DnsRecordTypes.A);
        Ask(responder, "denied.example", DnsRecordTypes.A);

        Assert.Equal(DnsResponseCode.NoError, code);
        Assert.NotNull(answer);
        var evt = Assert.Single(_events);
        Assert.True(evt.WouldDeny);
    }

    [Fact]
    public void Respond_PoolFull_ServFailAndKnownNamesStillAnswered()
    {
        var responder = Create("example.com", capacity: 1);

        var (first, _) = Ask(responder, "a.example.com", DnsRecordTypes.A);
        var (second, _) = Ask(responder, "b.example.com", DnsRecordTypes.A);
        var (again, answer) = Ask(responder, "a.example.com", DnsRecordTypes.A);

        Assert.Equal((DnsResponseCode.NoError, DnsResponseCode.ServerFailure, DnsResponseCode.NoError), (first, second, again));
        Assert.NotNull(answer);
        Assert.Equal(1, responder.Exhausted);
    }

    [Fact]
    public void Respond_DeniedFlood_EventsBoundedButEveryQueryCounted()
    {
        var responder = Create("allowed.example", budget: new EventBudget(perSecond: 1, burst: 5));

        for (int i = 0; i < 50; i++)
        {
            Ask(responder, $"x{i}.denied.example", DnsRecordTypes.Txt);
        }

        Assert.InRange(_events.Count, 5, 7);
        Assert.Equal(50, responder.Denied);
        Assert.Equal(50 - _events.Count, responder.SuppressedEvents);
    }

    [Fact]
    public void Respond_ResponseEchoesIdAndQuestionVerbatim()
    {
        var responder = Create("allowed.example");
        var query = DnsTestMessages.Query("AlLoWeD.example", DnsRecordTypes.A, id: 0xBEEF);
        var response = new byte[DnsResponder.MaxResponseLength];

        int length = responder.Respond(query, response);

        Assert.Equal(0xBEEF, BinaryPrimitives.ReadUInt16BigEndian(response));
        Assert.Equal(query[12..], response[12..query.Length]);
        Assert.Equal(1, DnsTestMessages.AnswerCount(response.AsSpan(0, length)));
    }

    [Fact]
    public void Respond_MalformedOrResponse_FormErrOrNothing()
    {
        var responder = Create("allowed.example");
        var response = new byte[DnsResponder.MaxResponseLength];

        Assert.Equal(0, responder.Respond(DnsTestMessages.Query("allowed.example", DnsRecordTypes.A, flags: 0x8000), response));
        int length = responder.Respond(DnsTestMessages.Raw(2), response);
        Assert.Equal((int)DnsResponseCode.FormatError, DnsTestMessages.ResponseCode(response.AsSpan(0, length)));
        Assert.Empty(_events);
    }

    public void Dispose() => _policy?.Dispose();

    private static (DnsResponseCode Code, IPAddress? Answer) Ask(DnsResponder responder, string name, ushort type) => Ask(responder, name, type, out _);

    private static (DnsResponseCode Code, IPAddress? Answer) Ask(DnsResponder responder, string name, ushort type, out int answers)
    {
        var query = DnsTestMessages.Query(name, type);
        var response = new byte[DnsResponder.MaxResponseLength];
        int length = responder.Respond(query, response);
        var span = response.AsSpan(0, length);
        answers = DnsTestMessages.AnswerCount(span);
        IPAddress? answer = null;
        if (answers == 1)
        {
            int rdLength = BinaryPrimitives.ReadUInt16BigEndian(span[(query.Length + 10)..]);
            answer = new IPAddress(span.Slice(query.Length + 12, rdLength));
        }

        return ((DnsResponseCode)DnsTestMessages.ResponseCode(span), answer);
    }

    private DnsResponder Create(string allowlist, bool enforce = true, int capacity = 64, EventBudget? budget = null)
    {
        _policy = EgressPolicy.Create(new EgressOptions { Allowlist = [.. allowlist.Split(',')], Enforce = enforce, LogLevel = 0 }, TextWriter.Null);
        _policy.Events.Recorded += e =>
        {
            lock (_events)
            {
                _events.Add(e);
            }
        };
        return new DnsResponder(_policy, new SyntheticAddressMap(capacity), new DnsResponderOptions { DenialBudget = budget });
    }
}

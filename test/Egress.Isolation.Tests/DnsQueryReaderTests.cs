using System.Buffers.Binary;
using CsCheck;
using Egress.Isolation.Dns;

namespace Egress.Isolation.Tests;

public sealed class DnsQueryReaderTests
{
    private static readonly Gen<string> Label = Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"], 1, 63];

    private static readonly Gen<string> Name = Label.Array[1, 4].Select(labels => string.Join('.', labels)).Where(n => n.Length <= 250);

    [Fact]
    public void TryRead_ARecordQuery_ReadsNameTypeAndClass()
    {
        var status = DnsQueryReader.TryRead(DnsTestMessages.Query("Api.Example.COM", DnsRecordTypes.Txt), out var query);

        Assert.Equal(DnsReadStatus.Query, status);
        Assert.Equal("api.example.com", query.Name);
        Assert.Equal(DnsRecordTypes.Txt, query.Type);
        Assert.Equal(DnsRecordTypes.ClassInternet, query.Class);
        Assert.True(query.IsHostName);
        Assert.True(query.RecursionDesired);
        Assert.Equal(0x1234, query.Id);
    }

    [Fact]
    public void TryRead_AnyWellFormedName_RoundTripsLowerCased() =>
        Gen.Select(Name, Gen.UShort).Sample((name, type) =>
        {
            var message = DnsTestMessages.Query(name, type);
            return DnsQueryReader.TryRead(message, out var query) == DnsReadStatus.Query
                && string.Equals(query.Name, name.ToLowerInvariant(), StringComparison.Ordinal) && query.Type == type && query.IsHostName && query.QuestionEnd == message.Length;
        });

    [Fact]
    public void TryRead_RandomBytes_NeverThrowsAndBoundsTheName() =>
        Gen.Byte.Array[0, 600].Sample(bytes =>
        {
            var status = DnsQueryReader.TryRead(bytes, out var query);
            return status != DnsReadStatus.Query || (query.Name.Length <= DnsQueryReader.MaxNameLength * 3 && query.QuestionEnd <= bytes.Length);
        });

    [Fact]
    public void TryRead_AnyTruncationOfAQuery_IsNeverAQuery() =>
        Gen.Select(Name, Gen.Int[0, 1000]).Sample((name, cut) =>
        {
            var message = DnsTestMessages.Query(name, DnsRecordTypes.A);
            int length = cut % message.Length;
            return DnsQueryReader.TryRead(message.AsSpan(0, length), out _) != DnsReadStatus.Query;
        });

    [Fact]
    public void TryRead_NonHostOctets_AreEscapedAndNotAHostName()
    {
        // One label "a.b" (a dot inside a label) and one label with a NUL and a high octet.
        var message = DnsTestMessages.Raw(1, 3, (byte)'a', (byte)'.', (byte)'b', 2, 0, 0xFF, 0, 0, 1, 0, 1);

        Assert.Equal(DnsReadStatus.Query, DnsQueryReader.TryRead(message, out var query));
        Assert.False(query.IsHostName);
        Assert.Equal("a%2Eb.%00%FF", query.Name);
    }

    [Fact]
    public void TryRead_RootName_IsNotAHostName()
    {
        Assert.Equal(DnsReadStatus.Query, DnsQueryReader.TryRead(DnsTestMessages.Raw(1, 0, 0, 2, 0, 1), out var query));
        Assert.False(query.IsHostName);
        Assert.Equal(string.Empty, query.Name);
    }

    [Fact]
    public void TryRead_CompressionPointerToItself_IsFormatError() =>
        Assert.Equal(DnsReadStatus.FormatError, DnsQueryReader.TryRead(DnsTestMessages.Raw(1, 0xC0, 12, 0, 1, 0, 1), out _));

    [Fact]
    public void TryRead_CompressionLoopThroughALabel_IsFormatError() =>
        // "a" then a pointer back to the "a": a.a.a.… for ever.
        Assert.Equal(DnsReadStatus.FormatError, DnsQueryReader.TryRead(DnsTestMessages.Raw(1, 1, (byte)'a', 0xC0, 12, 0, 1, 0, 1), out _));

    [Fact]
    public void TryRead_PointerForwardOrIntoTheHeader_IsFormatError()
    {
        Assert.Equal(DnsReadStatus.FormatError, DnsQueryReader.TryRead(DnsTestMessages.Raw(1, 0xC0, 16, 0, 1, 0, 1, 1, (byte)'a', 0), out _));
        Assert.Equal(DnsReadStatus.FormatError, DnsQueryReader.TryRead(DnsTestMessages.Raw(1, 0xC0, 2, 0, 1, 0, 1), out _));
    }

    [Fact]
    public void TryRead_ExtendedLabelType_IsFormatError() =>
        Assert.Equal(DnsReadStatus.FormatError, DnsQueryReader.TryRead(DnsTestMessages.Raw(1, 0x41, 0, 0, 1, 0, 1), out _));

    [Fact]
    public void TryRead_LabelOf64_IsFormatError()
    {
        var after = new List<byte> { 64 };
        after.AddRange(Enumerable.Repeat((byte)'a', 64));
        after.AddRange([0, 0, 1, 0, 1]);
        Assert.Equal(DnsReadStatus.FormatError, DnsQueryReader.TryRead(DnsTestMessages.Raw(1, [.. after]), out _));
    }

    [Fact]
    public void TryRead_NameLongerThan255_IsFormatError()
    {
        var after = new List<byte>();
        for (int i = 0; i < 5; i++)
        {
            after.Add(60);
            after.AddRange(Enumerable.Repeat((byte)'a', 60));
        }

        after.AddRange([0, 0, 1, 0, 1]);
        Assert.Equal(DnsReadStatus.FormatError, DnsQueryReader.TryRead(DnsTestMessages.Raw(1, [.. after]), out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(65535)]
    public void TryRead_QuestionCountOtherThanOne_IsFormatError(int questions)
    {
        var message = DnsTestMessages.Query("a.example", DnsRecordTypes.A);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), (ushort)questions);
        Assert.Equal(DnsReadStatus.FormatError, DnsQueryReader.TryRead(message, out _));
    }

    [Fact]
    public void TryRead_RecordsInTheAnswerSection_IsFormatError()
    {
        var message = DnsTestMessages.Query("a.example", DnsRecordTypes.A);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(6), 1);
        Assert.Equal(DnsReadStatus.FormatError, DnsQueryReader.TryRead(message, out _));
    }

    [Fact]
    public void TryRead_Oversized_IsFormatError()
    {
        var message = DnsTestMessages.Query("a.example", DnsRecordTypes.A);
        var big = new byte[DnsQueryReader.MaxMessageLength + 1];
        message.CopyTo(big, 0);
        Assert.Equal(DnsReadStatus.FormatError, DnsQueryReader.TryRead(big, out _));
    }

    [Fact]
    public void TryRead_Response_IsIgnored() =>
        Assert.Equal(DnsReadStatus.Ignore, DnsQueryReader.TryRead(DnsTestMessages.Query("a.example", DnsRecordTypes.A, flags: 0x8100), out _));

    [Fact]
    public void TryRead_ShorterThanAHeader_IsIgnored() =>
        Assert.Equal(DnsReadStatus.Ignore, DnsQueryReader.TryRead(new byte[11], out _));

    [Fact]
    public void TryRead_UpdateOpcode_IsNotImplemented() =>
        Assert.Equal(DnsReadStatus.NotImplemented, DnsQueryReader.TryRead(DnsTestMessages.Query("a.example", DnsRecordTypes.A, flags: 5 << 11), out _));
}

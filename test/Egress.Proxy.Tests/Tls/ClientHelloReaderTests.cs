using System.Net;
using System.Net.Sockets;
using System.Text;
using CsCheck;
using Egress.Proxy.Tests.Support;
using Egress.Proxy.Tls;
using Egress.TestUtils;

namespace Egress.Proxy.Tests.Tls;

public sealed class ClientHelloReaderTests
{
    private static readonly Gen<string> Label = Gen.Char["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"].Array[1, 20].Select(a => new string(a));

    private static readonly Gen<string> HostName = Label.Array[1, 5].Select(labels => string.Join('.', labels));

    [Fact]
    public void Read_OneRecordWithServerName_ReturnsTheName()
    {
        var bytes = new ClientHelloBuilder().WithServerName("api.example.com").Build();

        var hello = ClientHelloReader.Read(bytes);

        Assert.Equal(ClientHelloStatus.Complete, hello.Status);
        Assert.Equal("api.example.com", hello.ServerName);
        Assert.False(hello.HasEncryptedClientHello);
        Assert.Equal(bytes.Length, hello.BytesNeeded);
    }

    [Fact]
    public void Read_GreaseAndManyExtensions_AreSkipped()
    {
        var bytes = new ClientHelloBuilder { CipherSuites = [0x2a2a, 0x1301] }
            .WithExtension(0x0a0a, [])
            .WithExtension(0x000a, [0, 4, 0x2a, 0x2a, 0, 0x1d])
            .WithExtension(0x0010, [0, 3, 2, (byte)'h', (byte)'2'])
            .WithServerName("cdn.example")
            .WithExtension(0x002b, [4, 0x3a, 0x3a, 3, 4])
            .WithExtension(0xfafa, [0])
            .Build();

        var hello = ClientHelloReader.Read(bytes);

        Assert.Equal(ClientHelloStatus.Complete, hello.Status);
        Assert.Equal("cdn.example", hello.ServerName);
    }

    [Fact]
    public void Read_NoServerName_IsCompleteWithoutName()
    {
        var hello = ClientHelloReader.Read(new ClientHelloBuilder().WithExtension(0x000a, [0, 2, 0, 0x1d]).Build());

        Assert.Equal(ClientHelloStatus.Complete, hello.Status);
        Assert.Null(hello.ServerName);
    }

    [Fact]
    public void Read_NoExtensionsAtAll_IsCompleteWithoutName()
    {
        var hello = ClientHelloReader.Read(new ClientHelloBuilder { OmitExtensions = true }.Build());

        Assert.Equal(ClientHelloStatus.Complete, hello.Status);
        Assert.Null(hello.ServerName);
    }

    [Fact]
    public void Read_EchOuterHello_ReportsTheOuterNameAndEch()
    {
        var hello = ClientHelloReader.Read(new ClientHelloBuilder().WithServerName("public.example").WithEch().Build());

        Assert.Equal(ClientHelloStatus.Complete, hello.Status);
        Assert.Equal("public.example", hello.ServerName);
        Assert.True(hello.HasEncryptedClientHello);
    }

    [Fact]
    public void Read_NameCaseAndTrailingDot_AreKeptAsSent()
        => Assert.Equal("API.Example.com.", ClientHelloReader.Read(new ClientHelloBuilder().WithServerName("API.Example.com.").Build()).ServerName);

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nHost: a\r\n\r\n")]
    [InlineData("SSH-2.0-OpenSSH_9.6\r\n")]
    [InlineData("\u0080\u002e\u0001\u0003\u0001")]
    [InlineData("\u0016\u0002\u0000")]
    [InlineData("\u0000")]
    public void Read_OtherProtocols_AreNotTls(string start)
        => Assert.Equal(ClientHelloStatus.NotTls, ClientHelloReader.Read(Encoding.Latin1.GetBytes(start)).Status);

    public static TheoryData<string, byte[]> MalformedStreams()
    {
        var good = new ClientHelloBuilder().WithServerName("a.example").Build();
        var message = new ClientHelloBuilder().WithServerName("a.example").Message();
        byte[] WithSni(params byte[][] names) => new ClientHelloBuilder().WithServerNameBytes(names).Build();
        return new TheoryData<string, byte[]>
        {
            { "alert record first", [.. ClientHelloBuilder.Record(21, [1, 90]), .. good] },
            { "change_cipher_spec first", [.. ClientHelloBuilder.Record(20, [1]), .. good] },
            { "heartbeat first", [.. ClientHelloBuilder.Record(24, [1, 0, 0]), .. good] },
            { "application data first", [.. ClientHelloBuilder.Record(23, [1, 2, 3]), .. good] },
            { "server hello", ClientHelloBuilder.Records([2, .. message[1..]], [message.Length]) },
            { "interleaved record", [.. ClientHelloBuilder.Records(message, [10])[..15], .. ClientHelloBuilder.Record(21, [1, 90]), .. ClientHelloBuilder.Records(message[10..], [message.Length])] },
            { "empty handshake record", [.. ClientHelloBuilder.Record(22, []), .. good] },
            { "record over 2^14", [22, 3, 1, 0x40, 0x01, .. new byte[0x4001]] },
            { "second record of version 2", [.. ClientHelloBuilder.Records(message, [10])[..15], 22, 2, 1, .. ClientHelloBuilder.Records(message[10..], [message.Length])[3..]] },
            { "bytes after the message", ClientHelloBuilder.Record(22, [.. message, 1, 0, 0, 0]) },
            { "two server_name extensions", new ClientHelloBuilder().WithServerName("a.example").WithServerName("b.example").Build() },
            { "two host_names", WithSni("a.example"u8.ToArray(), "b.example"u8.ToArray()) },
            { "name type 1", new ClientHelloBuilder().WithServerNameEntries((1, "a.example"u8.ToArray())).Build() },
            { "allowed then other type", new ClientHelloBuilder().WithServerNameEntries((0, "a.example"u8.ToArray()), (1, "b.example"u8.ToArray())).Build() },
            { "empty name", WithSni([]) },
            { "empty server_name list", new ClientHelloBuilder().WithExtension(0, [0, 0]).Build() },
            { "empty server_name extension", new ClientHelloBuilder().WithExtension(0, []).Build() },
            { "NUL inside name", WithSni("allowed.example\0.evil.example"u8.ToArray()) },
            { "NUL at end", WithSni("allowed.example\0"u8.ToArray()) },
            { "space", WithSni("a example"u8.ToArray()) },
            { "percent", WithSni("a%2eexample"u8.ToArray()) },
            { "colon (IPv6 literal)", WithSni("::1"u8.ToArray()) },
            { "slash", WithSni("a.example/x"u8.ToArray()) },
            { "non-ASCII", WithSni([0xc3, 0xa9, (byte)'.', (byte)'f', (byte)'r']) },
            { "empty label", WithSni("a..example"u8.ToArray()) },
            { "leading dot", WithSni(".a.example"u8.ToArray()) },
            { "two trailing dots", WithSni("a.example.."u8.ToArray()) },
            { "label of 64", WithSni(Encoding.ASCII.GetBytes(new string('a', 64) + ".example")) },
            { "name over 254", WithSni(Encoding.ASCII.GetBytes(string.Join('.', Enumerable.Repeat(new string('a', 50), 6)))) },
            { "name length past list", new ClientHelloBuilder().WithExtension(0, [0, 12, 0, 0, 20, .. "a.example"u8.ToArray()]).Build() },
            { "list length mismatch", new ClientHelloBuilder().WithExtension(0, [0, 20, 0, 0, 9, .. "a.example"u8.ToArray()]).Build() },
            { "two ech extensions", new ClientHelloBuilder().WithServerName("a.example").WithEch().WithEch().Build() },
            { "extensions length past the message", TruncateExtensions(message) },
            { "legacy version 2", ClientHelloBuilder.Records([.. message[..4], 2, .. message[5..]], [message.Length]) },
            { "session id over 32", ClientHelloBuilder.Records([.. message[..38], 33, .. message[39..]], [message.Length]) },
            { "odd cipher suites length", ClientHelloBuilder.Records(OddSuites(), [1000]) },
            { "no compression methods", ClientHelloBuilder.Records(NoCompression(), [1000]) },
            { "empty message", ClientHelloBuilder.Record(22, [1, 0, 0, 0]) },
            { "message length over the bound", [22, 3, 1, 0, 4, 1, 0, 0x80, 0] },
            { "too many records", ClientHelloBuilder.Records(new ClientHelloBuilder().WithServerName(new string('a', 60) + ".example").Message(), Enumerable.Repeat(1, 70).ToArray()) },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedStreams))]
    public void Read_AdversarialStreams_AreMalformed(string name, byte[] bytes)
    {
        var hello = ClientHelloReader.Read(bytes);

        Assert.True(hello.Status == ClientHelloStatus.Malformed, $"{name}: {hello.Status} {hello.ServerName}");
        Assert.Null(hello.ServerName);
        Assert.False(string.IsNullOrEmpty(hello.Problem));
    }

    [Fact]
    public void Read_WrongFirstMessageType_IsMalformedAfterSixBytes()
        => Assert.Equal(ClientHelloStatus.Malformed, ClientHelloReader.Read([22, 3, 1, 1, 0, 2]).Status);

    [Fact]
    public void Read_HugeDeclaredRecordOfWrongMessage_IsRefusedWithoutWaitingForIt()
        => Assert.Equal(ClientHelloStatus.Malformed, ClientHelloReader.Read([22, 3, 1, 0x40, 0, 11, 0, 0x3f, 0xfc]).Status);

    [Fact]
    public void Read_MaxRecordsOfOneByte_IsStillRead()
    {
        var message = new ClientHelloBuilder().WithServerName("a.example").Message();
        int[] sizes = [.. Enumerable.Repeat(1, ClientHelloReader.MaxRecords - 1), message.Length];

        var hello = ClientHelloReader.Read(ClientHelloBuilder.Records(message, sizes));

        Assert.Equal(ClientHelloStatus.Complete, hello.Status);
        Assert.Equal("a.example", hello.ServerName);
    }

    [Fact]
    public void Read_BytesAfterTheLastRecord_AreNotPartOfTheHello()
    {
        var bytes = new ClientHelloBuilder().WithServerName("a.example").Build();

        var hello = ClientHelloReader.Read([.. bytes, 23, 3, 3, 0, 1, 9]);

        Assert.Equal(ClientHelloStatus.Complete, hello.Status);
        Assert.Equal(bytes.Length, hello.BytesNeeded);
    }

    [Fact]
    public void Read_ArbitraryBytes_NeverThrowAndNeverNameWhatIsNotComplete()
    {
        Gen.Byte.Array[0, 600].Sample(bytes =>
        {
            var hello = ClientHelloReader.Read(bytes);
            return hello.Status switch
            {
                ClientHelloStatus.Incomplete => hello.ServerName is null && hello.BytesNeeded > bytes.Length && hello.BytesNeeded <= ClientHelloReader.MaxBytes,
                ClientHelloStatus.Complete => hello.BytesNeeded <= bytes.Length,
                _ => hello.ServerName is null,
            };
        }, iter: 20000);
    }

    [Fact]
    public void Read_TlsShapedRandomBytes_NeverThrow()
    {
        // Random bodies behind a plausible record and handshake header reach the deeper parsing.
        Gen.Select(Gen.Byte.Array[0, 400], Gen.Int[0, 3]).Sample((body, shift) =>
        {
            int length = body.Length + shift;
            byte[] bytes = [22, 3, 1, .. ClientHelloBuilder.U16(length + 4), 1, 0, .. ClientHelloBuilder.U16(length), 3, 3, .. body];
            var hello = ClientHelloReader.Read(bytes);
            return hello.Status != ClientHelloStatus.NotTls;
        }, iter: 20000);
    }

    [Fact]
    public void Read_MutatedValidHello_NeverThrowsAndNamesOnlyValidHostNames()
    {
        var baseline = new ClientHelloBuilder().WithExtension(0x0a0a, []).WithServerName("allowed.example").WithEch().Build();
        Gen.Select(Gen.Int[0, baseline.Length - 1], Gen.Byte, Gen.Int[1, 4]).Array[1, 6].Sample(mutations =>
        {
            var bytes = (byte[])baseline.Clone();
            foreach (var (at, value, _) in mutations)
            {
                bytes[at] = value;
            }

            var hello = ClientHelloReader.Read(bytes);
            return hello.ServerName is null || hello.ServerName.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
        }, iter: 20000);
    }

    [Fact]
    public void Read_GeneratedHellos_RoundTripNameAndEch()
    {
        Gen.Select(HostName, Gen.Bool, Gen.Byte.Array[0, 32], Gen.Int[0, 6]).Sample((name, ech, session, greaseCount) =>
        {
            var builder = new ClientHelloBuilder { SessionId = session };
            for (int i = 0; i < greaseCount; i++)
            {
                builder.WithExtension(ClientHelloBuilder.Grease[(i * 5) % 16], new byte[i]);
            }

            builder.WithServerName(name);
            if (ech)
            {
                builder.WithEch();
            }

            var hello = ClientHelloReader.Read(builder.Build());
            return hello.Status == ClientHelloStatus.Complete && hello.ServerName == name && hello.HasEncryptedClientHello == ech;
        }, iter: 3000);
    }

    [Fact]
    public void Read_AnyRecordSplit_GivesTheSameAnswer()
    {
        var message = new ClientHelloBuilder().WithExtension(0x1a1a, [1, 2]).WithServerName("split.example").Message();
        Gen.Int[1, 40].Array[1, ClientHelloReader.MaxRecords - 1].Sample(sizes =>
        {
            var hello = ClientHelloReader.Read(ClientHelloBuilder.Records(message, sizes));
            return hello.Status == ClientHelloStatus.Complete && hello.ServerName == "split.example";
        }, iter: 3000);
    }

    [Fact]
    public void Read_EveryPrefix_IsIncompleteAndAsksForMoreButNotPastTheEnd()
    {
        var message = new ClientHelloBuilder().WithServerName("prefix.example").Message();
        var bytes = ClientHelloBuilder.Records(message, [3, 50, 7]);
        for (int n = 0; n < bytes.Length; n++)
        {
            var hello = ClientHelloReader.Read(bytes.AsSpan(0, n));
            Assert.Equal(ClientHelloStatus.Incomplete, hello.Status);
            Assert.InRange(hello.BytesNeeded, n + 1, bytes.Length);
        }
    }

    [Fact]
    public void Read_FedInArbitrarySegments_CompletesWithFewRereads()
    {
        // A caller that asks again only once BytesNeeded bytes are in re-parses at most once per record header
        // and once per record, however the bytes are segmented on the wire.
        var message = new ClientHelloBuilder().WithServerName("segments.example").Message();
        Gen.Select(Gen.Int[1, 30].Array[1, 20], Gen.Int[1, 64].Array[1, 50]).Sample((recordSizes, segments) =>
        {
            var bytes = ClientHelloBuilder.Records(message, recordSizes);
            int received = 0, calls = 0, segment = 0;
            ClientHello hello;
            while (true)
            {
                hello = ClientHelloReader.Read(bytes.AsSpan(0, received));
                calls++;
                if (hello.Status != ClientHelloStatus.Incomplete)
                {
                    break;
                }

                while (received < hello.BytesNeeded)
                {
                    received = Math.Min(bytes.Length, received + segments[segment++ % segments.Length]);
                }
            }

            return hello.ServerName == "segments.example" && calls <= (2 * recordSizes.Length) + 4;
        }, iter: 2000);
    }

    [Theory]
    [InlineData("one.example")]
    [InlineData("xn--bcher-kva.example")]
    public async Task Read_OpensslClientHello_ReturnsItsServerName(string name)
    {
        var bytes = await CaptureAsync(port => ["s_client", "-connect", $"127.0.0.1:{port}", "-servername", name]);

        var hello = ClientHelloReader.Read(bytes);

        Assert.Equal(ClientHelloStatus.Complete, hello.Status);
        Assert.Equal(name, hello.ServerName);
    }

    [Fact]
    public async Task Read_OpensslClientHelloWithoutSni_HasNoName()
    {
        var bytes = await CaptureAsync(port => ["s_client", "-connect", $"127.0.0.1:{port}", "-noservername"]);

        var hello = ClientHelloReader.Read(bytes);

        Assert.Equal(ClientHelloStatus.Complete, hello.Status);
        Assert.Null(hello.ServerName);
    }

    [Fact]
    public async Task Read_CurlClientHello_ReturnsTheUrlHost()
    {
        var bytes = await CaptureAsync(port => ["--connect-to", $"curl.example:443:127.0.0.1:{port}", "-sk", "-m", "5", "https://curl.example/"], "curl");

        Assert.Equal("curl.example", ClientHelloReader.Read(bytes).ServerName);
    }

    private static byte[] TruncateExtensions(byte[] message)
    {
        // Declares two extension bytes more than there are.
        int at = 4 + 2 + 32 + 1 + 32 + 2 + 6 + 2;
        var copy = (byte[])message.Clone();
        copy[at + 1] += 2;
        return ClientHelloBuilder.Records(copy, [copy.Length]);
    }

    private static byte[] OddSuites()
    {
        var message = new ClientHelloBuilder().Message();
        var copy = (byte[])message.Clone();
        copy[4 + 2 + 32 + 1 + 32 + 1] = 5;
        return copy;
    }

    private static byte[] NoCompression()
    {
        var message = new ClientHelloBuilder().Message();
        var copy = (byte[])message.Clone();
        copy[4 + 2 + 32 + 1 + 32 + 2 + 6] = 0;
        return copy;
    }

    // Runs a real TLS client against a loopback listener and returns the bytes it sent first (bounded).
    private static async Task<byte[]> CaptureAsync(Func<int, string[]> arguments, string program = "openssl")
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var client = ProcessRunner.RunAsync(program, arguments(port), timeout: TimeSpan.FromSeconds(20));
        using var accepted = await listener.AcceptAsync(timeout.Token);
        var buffer = new byte[ClientHelloReader.MaxBytes];
        int received = 0;
        while (true)
        {
            var hello = ClientHelloReader.Read(buffer.AsSpan(0, received));
            if (hello.Status != ClientHelloStatus.Incomplete)
            {
                break;
            }

            int n = await accepted.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None, timeout.Token);
            if (n == 0)
            {
                break;
            }

            received += n;
        }

        accepted.Close();
        await client;
        return buffer[..received];
    }
}

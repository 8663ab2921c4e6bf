using System.Buffers.Binary;
using System.Text;

namespace Egress.Proxy.Tests.Support;

/// <summary>Builds TLS ClientHello byte streams for the reader's tests (by the RFC 8446 layout).</summary>
internal sealed class ClientHelloBuilder
{
    public static readonly ushort[] Grease = [0x0a0a, 0x1a1a, 0x2a2a, 0x3a3a, 0x4a4a, 0x5a5a, 0x6a6a, 0x7a7a, 0x8a8a, 0x9a9a, 0xaaaa, 0xbaba, 0xcaca, 0xdada, 0xeaea, 0xfafa];

    public byte[] SessionId { get; set; } = new byte[32];

    public ushort[] CipherSuites { get; set; } = [0x1301, 0x1302, 0xc02f];

    public List<(ushort Type, byte[] Data)> Extensions { get; } = [];

    public bool OmitExtensions { get; set; }

    public ClientHelloBuilder WithServerName(string name) => WithServerNameBytes(Encoding.ASCII.GetBytes(name));

    public ClientHelloBuilder WithServerNameBytes(params byte[][] names) => WithServerNameEntries(names.Select(n => ((byte)0, n)).ToArray());

    public ClientHelloBuilder WithServerNameEntries(params (byte Type, byte[] Name)[] entries)
    {
        var list = new List<byte>();
        foreach (var (type, name) in entries)
        {
            list.Add(type);
            list.AddRange(U16(name.Length));
            list.AddRange(name);
        }

        Extensions.Add((0, [.. U16(list.Count), .. list]));
        return this;
    }

    public ClientHelloBuilder WithExtension(ushort type, byte[] data)
    {
        Extensions.Add((type, data));
        return this;
    }

    /// <summary>An outer encrypted_client_hello extension (type 0 = outer, a made-up config id and payload).</summary>
    public ClientHelloBuilder WithEch() => WithExtension(0xfe0d, [0, 0, 1, 0, 1, 7, 0, 2, 0xaa, 0xbb, 0, 3, 1, 2, 3]);

    /// <summary>The handshake message (type, 24-bit length, body).</summary>
    public byte[] Message()
    {
        var body = new List<byte> { 3, 3 };
        body.AddRange(new byte[32]);
        body.Add((byte)SessionId.Length);
        body.AddRange(SessionId);
        body.AddRange(U16(CipherSuites.Length * 2));
        foreach (var suite in CipherSuites)
        {
            body.AddRange(U16(suite));
        }

        body.Add(1);
        body.Add(0);
        if (!OmitExtensions)
        {
            var extensions = new List<byte>();
            foreach (var (type, data) in Extensions)
            {
                extensions.AddRange(U16(type));
                extensions.AddRange(U16(data.Length));
                extensions.AddRange(data);
            }

            body.AddRange(U16(extensions.Count));
            body.AddRange(extensions);
        }

        return [1, (byte)(body.Count >> 16), (byte)(body.Count >> 8), (byte)body.Count, .. body];
    }

    /// <summary>The message in one handshake record.</summary>
    public byte[] Build() => Records(Message(), [Message().Length]);

    /// <summary>The message split into records of the given payload sizes (the last takes the rest).</summary>
    public static byte[] Records(byte[] message, IReadOnlyList<int> sizes)
    {
        var output = new List<byte>();
        int at = 0;
        for (int i = 0; at < message.Length; i++)
        {
            int size = i < sizes.Count - 1 ? Math.Min(sizes[i], message.Length - at) : message.Length - at;
            output.AddRange(Record(22, message.AsSpan(at, size).ToArray()));
            at += size;
        }

        return [.. output];
    }

    public static byte[] Record(byte type, byte[] payload) => [type, 3, 1, .. U16(payload.Length), .. payload];

    public static byte[] U16(int value)
    {
        var b = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)value);
        return b;
    }
}

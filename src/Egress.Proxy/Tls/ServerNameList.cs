using System.Text;

namespace Egress.Proxy.Tls;

/// <summary>The <c>server_name</c> extension of a ClientHello (RFC 6066 §3).</summary>
internal static class ServerNameList
{
    private const byte HostNameType = 0;
    private const int MaxHostNameLength = 253 + 1;

    /// <summary>
    /// Reads a <c>server_name</c> extension body into <paramref name="name"/>; returns why it is refused, or null.
    /// Exactly one <c>host_name</c> entry is accepted (as OpenSSL requires), with LDH, <c>_</c> and dots only.
    /// </summary>
    public static string? Read(ReadOnlySpan<byte> extension, out string? name)
    {
        name = null;
        var reader = new TlsCursor(extension);
        if (!reader.TryUInt16(out int listLength) || listLength != reader.Remaining || listLength == 0)
        {
            return "the server_name list has an invalid length";
        }

        while (reader.Remaining > 0)
        {
            if (!reader.TryByte(out byte nameType) || !reader.TryUInt16(out int length) || !reader.TrySlice(length, out var value))
            {
                return "a server_name entry is truncated";
            }

            if (nameType != HostNameType)
            {
                return "the server_name list has an entry that is not a host_name";
            }

            if (name is not null)
            {
                return "the server_name list has more than one host_name";
            }

            if (!IsHostName(value))
            {
                return "the server_name is not a valid host name";
            }

            name = Encoding.ASCII.GetString(value);
        }

        return null;
    }

    private static bool IsHostName(ReadOnlySpan<byte> value)
    {
        if (value.Length is 0 or > MaxHostNameLength)
        {
            return false;
        }

        int label = 0;
        for (int i = 0; i < value.Length; i++)
        {
            byte b = value[i];
            if (b == (byte)'.')
            {
                // Empty labels are refused; one trailing dot (the absolute form) is kept.
                if (label == 0)
                {
                    return false;
                }

                label = 0;
                continue;
            }

            bool ok = b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'_';
            if (!ok || ++label > 63)
            {
                return false;
            }
        }

        return true;
    }
}

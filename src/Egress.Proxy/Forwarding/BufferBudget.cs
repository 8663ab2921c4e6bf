using System.Buffers;

namespace Egress.Proxy.Forwarding;

/// <summary>
/// The process-wide budget for relay buffers in user space. A pump that must copy (no splice pipe, or not
/// Linux) borrows <see cref="LargeSize"/> bytes while the budget has room and <see cref="SmallSize"/> bytes
/// otherwise, so one stalled tunnel holds at most 64 KiB and any number of them at most
/// <see cref="Limit"/> plus 4 KiB each: 10,000 stalled tunnels stay well under 1 GiB.
/// </summary>
internal static class BufferBudget
{
    /// <summary>Buffer size while the budget has room (two halves, so receiving overlaps sending).</summary>
    public const int LargeSize = 64 * 1024;

    /// <summary>Buffer size once the budget is spent; always granted, so every tunnel makes progress.</summary>
    public const int SmallSize = 4 * 1024;

    /// <summary>Bytes of large buffers lent at most.</summary>
    public const long Limit = 128L * 1024 * 1024;

    private static long s_lent;

    /// <summary>Bytes of large buffers lent now.</summary>
    public static long Lent => Interlocked.Read(ref s_lent);

    /// <summary>Borrows a buffer; give it back with <see cref="Return"/>.</summary>
    public static byte[] Rent()
    {
        if (Interlocked.Add(ref s_lent, LargeSize) <= Limit)
        {
            return ArrayPool<byte>.Shared.Rent(LargeSize);
        }

        Interlocked.Add(ref s_lent, -LargeSize);
        return ArrayPool<byte>.Shared.Rent(SmallSize);
    }

    /// <summary>Gives a buffer from <see cref="Rent"/> back.</summary>
    public static void Return(byte[] buffer)
    {
        if (buffer.Length >= LargeSize)
        {
            Interlocked.Add(ref s_lent, -LargeSize);
        }

        ArrayPool<byte>.Shared.Return(buffer);
    }
}

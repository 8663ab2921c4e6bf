namespace Egress.Http.Guard;

/// <summary>
/// Left on a hop's async flow by the diagnostics hook, which decided the hop with the whole request in hand; the
/// metrics hook, lower in the same handler pipeline, consumes it instead of deciding and recording the hop again.
/// </summary>
internal sealed class HopMarker
{
    /// <summary>The marker of the hop in progress on this flow.</summary>
    public static readonly AsyncLocal<HopMarker?> Current = new();

    /// <summary>Whether the metrics hook already saw this hop's start.</summary>
    public bool Consumed { get; set; }

    /// <summary>Consumes the current hop's marker: true when the diagnostics hook decided this hop.</summary>
    public static bool TryConsume()
    {
        if (Current.Value is { Consumed: false } marker)
        {
            marker.Consumed = true;
            return true;
        }

        return false;
    }
}

using System.Text;
using System.Text.Json;
using Egress.Policy.Configuration;

namespace Egress.Policy.Events;

/// <summary>
/// Writes decision log lines to a <see cref="TextWriter"/> (stderr by default) per <c>EGRESS_LOG</c> and
/// <c>EGRESS_LOG_FORMAT</c>. Only hosts and ports are logged, never URLs, paths, queries or credentials.
/// </summary>
public sealed class EventLogWriter : EgressEventSink
{
    private readonly TextWriter _writer;
    private readonly Lock _gate = new();

    /// <summary>Creates a writer at <paramref name="level"/> in <paramref name="format"/>.</summary>
    public EventLogWriter(TextWriter writer, int level, EgressLogFormat format)
    {
        _writer = writer;
        Level = level;
        Format = format;
    }

    /// <summary>0 silent, 1 denials and warnings, 2 every decision.</summary>
    public int Level { get; }

    /// <summary>Line format.</summary>
    public EgressLogFormat Format { get; }

    /// <summary>Whether decisions are logged (warnings are regardless).</summary>
    public bool LogDecisions { get; init; } = true;

    /// <summary>Whether <paramref name="evt"/> is logged at this level.</summary>
    public bool ShouldLog(EgressEvent evt) => LogDecisions && (Level >= 2 || (Level >= 1 && (evt.IsBlocked || evt.WouldDeny)));

    /// <inheritdoc />
    public override void Write(EgressEvent evt, TimeSpan? decisionTime) => Write(evt);

    /// <summary>Writes the event if the level asks for it. Never throws.</summary>
    public void Write(EgressEvent evt)
    {
        if (!ShouldLog(evt))
        {
            return;
        }

        try
        {
            string line = Format == EgressLogFormat.Json ? FormatJson(evt) : FormatText(evt);
            lock (_gate)
            {
                _writer.WriteLine(line);
                _writer.Flush();
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // Logging must never break the request path.
        }
    }

    /// <summary>Writes a warning line (level ≥ 1). Never throws.</summary>
    public void Warn(string message)
    {
        if (Level < 1)
        {
            return;
        }

        try
        {
            lock (_gate)
            {
                _writer.WriteLine(Format == EgressLogFormat.Json
                    ? "{\"level\":\"warning\",\"message\":" + JsonSerializer.Serialize(message, EgressJsonContext.Default.String) + "}"
                    : "egress-policy: warning: " + message);
                _writer.Flush();
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
        }
    }

    /// <summary>The text form of an event.</summary>
    public static string FormatText(EgressEvent evt)
    {
        var sb = new StringBuilder(128);
        sb.Append("egress-policy: ").Append(evt.WouldDeny ? "AUDIT" : evt.Action).Append(' ').Append(evt.Host);
        if (evt.Port != 0)
        {
            sb.Append(':').Append(evt.Port);
        }

        sb.Append(" source=").Append(evt.Source);
        if (evt.Role is { } role)
        {
            // A gateway role (a DNS label) and its client (an address, or user@address with a printable user name).
            sb.Append(" role=").Append(role).Append(" client=").Append(evt.Client ?? "-");
        }

        sb.Append(" token=").Append(evt.Token ?? "-")
          .Append(" reason=\"").Append(evt.Reason).Append('"');
        return sb.ToString();
    }

    /// <summary>The JSON form of an event.</summary>
    public static string FormatJson(EgressEvent evt) => JsonSerializer.Serialize(evt, EgressJsonContext.Default.EgressEvent);
}

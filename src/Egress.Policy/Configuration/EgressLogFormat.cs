namespace Egress.Policy.Configuration;

/// <summary>How decision log lines are written.</summary>
public enum EgressLogFormat
{
    /// <summary>Human-readable text lines.</summary>
    Text,
    /// <summary>One JSON object per line.</summary>
    Json,
}

namespace Egress.Policy.Verification;

/// <summary>Category of a verification failure; the value is the process exit code (SPEC §5).</summary>
public enum VerificationCategory
{
    /// <summary>Enforcement off, empty allowlist, wildcard or unparsable tokens, unreadable configuration.</summary>
    Validation = 2,
    /// <summary>Allowlist and lock file differ.</summary>
    Drift = 3,
    /// <summary>Blocked events were recorded.</summary>
    Blocked = 4,
}

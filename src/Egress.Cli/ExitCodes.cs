namespace Egress.Cli;

/// <summary>Process exit codes (SPEC §5, §6), also listed in <c>--help</c> and docs/cli.md.</summary>
internal static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Success = 0;
    /// <summary>Usage error, or a <c>check</c> destination the policy denies.</summary>
    public const int UsageOrDenied = 1;
    /// <summary>Validation failure (enforcement off, empty allowlist, wildcard or bad token, unreadable configuration).</summary>
    public const int Validation = 2;
    /// <summary>Drift between allowlist and lock file.</summary>
    public const int Drift = 3;
    /// <summary>Blocked events recorded.</summary>
    public const int Blocked = 4;

    /// <summary>Text for <c>--help</c>.</summary>
    public const string HelpText = "Exit codes: 0 ok; 1 usage error or denied destination (check); 2 validation; 3 drift; 4 blocked events. Several failures: the highest wins.";
}

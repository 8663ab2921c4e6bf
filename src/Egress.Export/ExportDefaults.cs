namespace Egress.Export;

/// <summary>Defaults of the exporters.</summary>
public static class ExportDefaults
{
    /// <summary>Default name of the generated objects.</summary>
    public const string Name = "egress-allowlist";

    /// <summary>Annotation carrying the SHA-256 of the lock file the objects were generated from.</summary>
    public const string Sha256Annotation = "egress-policy.io/lock-sha256";

    /// <summary>Annotation naming the source of the tokens.</summary>
    public const string SourceAnnotation = "egress-policy.io/source";
}

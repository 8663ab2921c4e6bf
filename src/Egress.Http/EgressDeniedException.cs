using Egress.Policy;
using Egress.Policy.Configuration;

namespace Egress.Http;

/// <summary>
/// A request refused by the egress policy. Derives from <see cref="HttpRequestException"/> so that
/// existing <c>catch (HttpRequestException)</c> blocks keep working; <see cref="Decision"/> says why.
/// </summary>
public sealed class EgressDeniedException : HttpRequestException
{
    /// <summary>Creates the exception for <paramref name="decision"/>.</summary>
    /// <param name="decision">The denying decision.</param>
    public EgressDeniedException(EgressDecision decision)
        : this(decision, lockFile: null)
    {
    }

    /// <summary>Creates the exception for <paramref name="decision"/>, naming <paramref name="lockFile"/> in the hint.</summary>
    /// <param name="decision">The denying decision.</param>
    /// <param name="lockFile">The lock file to update, or <see langword="null"/> for the default name.</param>
    public EgressDeniedException(EgressDecision decision, string? lockFile)
        : base(HttpRequestError.Unknown, FormatMessage(decision, lockFile))
    {
        Decision = decision;
    }

    /// <summary>The decision that refused the request.</summary>
    public EgressDecision Decision { get; }

    /// <summary>The canonical host that was refused, or <see langword="null"/> when the destination could not be read.</summary>
    public string? Host => Decision.DestinationHost;

    /// <summary>Builds the message: host, reason and how to allow it.</summary>
    internal static string FormatMessage(in EgressDecision decision, string? lockFile)
    {
        string lockName = lockFile ?? EgressDefaults.LockFileName;
        if (decision.DestinationHost is not { } host)
        {
            return $"Egress denied: {decision.Reason}.";
        }

        string target = decision.Port == 0 ? host : $"{host}:{decision.Port}";
        string hint = decision.Outcome switch
        {
            EgressOutcome.SpecialPurposeAddress =>
                $"to allow it, add '={EgressPolicy.Authority(host, decision.Port)}' (or the address) to {EgressEnvironment.Allowlist} and to {lockName} ('egress-policy lock' rewrites the lock file)",
            EgressOutcome.InvalidDestination => "fix the destination",
            _ => $"to allow it, add '{EgressPolicy.SuggestToken(host, decision.Port)}' (or '={EgressPolicy.Authority(host, decision.Port)}' for this host only) to {EgressEnvironment.Allowlist} and to {lockName} ('egress-policy lock' rewrites the lock file)",
        };
        return $"Egress denied: {target} ({decision.Reason}); {hint}.";
    }
}

using Egress.Policy.Roles;

namespace Egress.Policy.Verification.Rules;

/// <summary>
/// Rule 4 for a lock file with <c>[role]</c> sections: each role's events stay inside its own section
/// (<see cref="RoleVerification.EventDrift"/>). Drift fails CI only with <c>EGRESS_CI_FAIL_ON_DRIFT</c>, as the
/// lock comparison does. Nothing to check for a plain lock file.
/// </summary>
internal sealed class RoleEventsRule : IVerificationRule
{
    public void Check(VerificationContext context)
    {
        if (context.Lock is not { Path: { } path, Roles: { } roles })
        {
            return;
        }

        bool failOnDrift = context.IsCi && context.Options.CiFailOnDrift;
        foreach (var message in RoleVerification.EventDrift(path, roles, context.Events))
        {
            context.FailIf(failOnDrift, 4, VerificationCategory.Drift, message);
        }
    }
}

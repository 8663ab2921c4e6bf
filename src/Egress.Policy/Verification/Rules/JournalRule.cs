using Egress.Policy.Events;

namespace Egress.Policy.Verification.Rules;

/// <summary>
/// Rule 5's evidence: a journal that cannot be read is an error everywhere (blocked events could hide in
/// it); unreadable and unverified lines are errors in CI (see <see cref="JournalFindings"/>).
/// </summary>
internal sealed class JournalRule : IVerificationRule
{
    public void Check(VerificationContext context)
    {
        if (context.Events.JournalError is { } journalError)
        {
            context.Error(5, VerificationCategory.Validation, journalError);
        }

        JournalFindings.Add(context.Events, context.IsCi, context.Errors, context.Warnings);
    }
}

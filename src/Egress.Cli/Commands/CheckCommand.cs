using System.CommandLine;
using System.Text.Json;
using Egress.Policy;
using Egress.Policy.Configuration;

namespace Egress.Cli.Commands;

/// <summary><c>check &lt;url-or-host&gt;...</c>: decide each destination and explain why.</summary>
internal static class CheckCommand
{
    public static Command Create(CliContext context)
    {
        var destinations = new Argument<string[]>("destination")
        {
            Description = "URLs or host[:port] to decide.",
            Arity = ArgumentArity.OneOrMore,
        };
        var json = new Option<bool>("--json") { Description = "Print the decisions as a JSON array." };
        var command = new Command("check", "Decide destinations against the policy and explain why. Exit 1 if the policy denies any (also in audit mode).")
        {
            destinations,
            json,
        };
        command.SetAction(parse => Run(context, parse.GetValue(destinations) ?? [], parse.GetValue(json)));
        return command;
    }

    private static int Run(CliContext ctx, string[] inputs, bool json)
    {
        using var policy = ctx.CreatePolicy();
        var results = new List<CheckResult>(inputs.Length);
        bool anyDenied = false;
        foreach (var input in inputs)
        {
            var decision = policy.Evaluate(input, EgressSources.Check);
            anyDenied |= decision.Outcome != EgressOutcome.Allowed;
            string? suggestion = decision.Outcome == EgressOutcome.NotInAllowlist && decision.DestinationHost is { } host
                ? EgressPolicy.SuggestToken(host)
                : null;
            results.Add(new CheckResult(input, decision.Allowed, decision.WouldDeny ? "AUDIT" : decision.Action, decision.Reason,
                decision.MatchedToken, decision.DestinationHost, decision.Port, decision.WouldDeny, suggestion));
        }

        if (json)
        {
            ctx.Out.WriteLine(JsonSerializer.Serialize(results, CliJsonContext.Default.ListCheckResult));
        }
        else
        {
            foreach (var r in results)
            {
                string where = r.DestinationHost is null ? CliText.Bounded(r.Input) : r.Port == 0 ? r.DestinationHost : $"{r.DestinationHost}:{r.Port}";
                ctx.Out.WriteLine(CliText.Clean($"{r.Action,-5} {where}  {r.Reason}"));
                if (r.Suggestion is not null)
                {
                    ctx.Out.WriteLine($"      to allow it, add '{r.Suggestion}' (or '={r.DestinationHost}' for this host only) to {EgressEnvironment.Allowlist} and the lock file");
                }
            }
        }

        return anyDenied ? ExitCodes.UsageOrDenied : ExitCodes.Success;
    }
}

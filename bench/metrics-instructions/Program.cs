using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Policy.Telemetry;
using Egress.Telemetry.Prometheus;

// Instruction-count harness (valgrind --tool=callgrind): the metrics calls a recorded decision makes, in a loop
// that allocates nothing, so the difference between modes is the added cost per decision.
string mode = args[0];
int n = int.Parse(args[1]);
bool deny = args.Length > 2 && args[2] == "deny";
var decision = deny
    ? new EgressDecision(false, "not in allowlist", null, "exfil.example.net", 443, EgressOutcome.NotInAllowlist, true)
    : new EgressDecision(true, "allowed by domain token", "example.com", "api.example.com", 443, EgressOutcome.Allowed, true);
var metrics = new EgressMetrics();
using var collector = mode == "collector" ? new MetricsCollector() : null;
long sum = 0;
for (int i = 0; i < n; i++)
{
    if (mode == "none")
    {
        sum += decision.Port;
        continue;
    }

    long started = metrics.StartTimestamp();
    metrics.RecordDuration(started, decision, "bench");
    metrics.RecordDecision(decision, "bench");
    sum += decision.Port;
}

Console.WriteLine(sum);

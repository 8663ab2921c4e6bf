using System.Diagnostics;
using System.Globalization;
using System.Text;
using Egress.Policy;
using Egress.Policy.Configuration;
using Egress.Policy.Roles;
using Egress.Proxy.Gateway;

// Measures (issue 12 item 7) what roles cost and what a reload takes, in process, on real files:
//   memory: managed heap (GC.GetTotalMemory after a full collection) and RSS (/proc/self/status VmRSS) before
//           and after compiling ROLES roles x TOKENS tokens, the compiled table kept alive;
//   reload: PolicyReloader.ReloadAsync of a 10,000-token file, alternating two contents, RUNS times; median.
// Usage: dotnet run -c Release --project bench/roles/Egress.Roles.Measure -- [ROLES] [TOKENS] [RUNS]
int roles = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
int tokens = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1000;
int runs = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 21;
var dir = Directory.CreateTempSubdirectory("egress-roles-measure-");
try
{
    using var basis = EgressPolicy.Create(new EgressOptions { LogLevel = 0, Allowlist = ["example.com"] }, TextWriter.Null);

    // Memory per role: the parsed tokens (kept: the compiled matchers share them) plus the compiled table.
    var text = RoleText(roles, tokens, 0);
    long heap0 = GC.GetTotalMemory(forceFullCollection: true);
    long rss0 = Rss();
    var content = RoleFile.Parse(text);
    if (!content.Problems.IsEmpty)
    {
        throw new InvalidOperationException(content.Problems[0].Message);
    }

    long heap1 = GC.GetTotalMemory(forceFullCollection: true);
    var table = Egress.Proxy.Roles.RoleTable.Build(basis, content);
    long heap2 = GC.GetTotalMemory(forceFullCollection: true);
    long rss2 = Rss();
    GC.KeepAlive(table);
    GC.KeepAlive(content);
    Console.WriteLine(FormattableString.Invariant($"roles: {roles} roles x {tokens} tokens ({text.Length / 1048576.0:0.0} MiB of text): managed heap +{(heap2 - heap0) / 1048576.0:0.0} MiB in all = {(heap2 - heap0) / (double)roles / 1024:0} KiB/role (parsed tokens {(heap1 - heap0) / 1048576.0:0.0} MiB, compiled matchers {(heap2 - heap1) / 1048576.0:0.0} MiB); RSS +{(rss2 - rss0) / 1048576.0:0.0} MiB = {(rss2 - rss0) / (double)roles / 1024:0} KiB/role"));

    // The reload's compile step, parse once (now) against parse twice (before: the verify rules parsed every token,
    // then WithAllowlist parsed them again), side by side on the same 10,000 tokens.
    var plainText = Plain(10_000, 0);
    var once = new List<double>();
    var twice = new List<double>();
    for (int i = 0; i < runs; i++)
    {
        var w = Stopwatch.StartNew();
        var parsed = RoleFile.Parse(plainText);
        using (basis.WithTokens(parsed.Default))
        {
        }

        once.Add(w.Elapsed.TotalMilliseconds);
        w.Restart();
        var again = RoleFile.Parse(plainText);
        using (basis.WithAllowlist(again.DefaultTexts))
        {
        }

        twice.Add(w.Elapsed.TotalMilliseconds);
    }

    once.Sort();
    twice.Sort();
    Console.WriteLine(FormattableString.Invariant($"compile 10,000 tokens, {runs} runs interleaved: parse once median {once[runs / 2]:0} ms (min {once[0]:0}), parse twice median {twice[runs / 2]:0} ms (min {twice[0]:0})"));

    // Reload of a 10,000-token plain policy file, and of the same tokens spread over 10 roles.
    foreach (var (label, make) in new (string, Func<int, string>)[]
    {
        ("10,000 tokens, no roles", n => Plain(10_000, n)),
        ("10 roles x 1,000 tokens", n => RoleText(10, 1_000, n)),
    })
    {
        var path = Path.Combine(dir.FullName, "policy.lock");
        File.WriteAllText(path, make(0));
        if (!PolicyFile.TryLoad(path, out RoleFileContent? initial, out var sha, out var error))
        {
            throw new InvalidOperationException(error);
        }

        using var host = new GatewayHost(basis, path, sha, TextWriter.Null, initial);
        var times = new List<double>();
        for (int i = 1; i <= runs; i++)
        {
            File.WriteAllText(path, make(i % 2));
            var watch = Stopwatch.StartNew();
            string result = await host.Reloader!.ReloadAsync();
            watch.Stop();
            if (result == "accepted")
            {
                times.Add(watch.Elapsed.TotalMilliseconds);
            }
        }

        times.Sort();
        Console.WriteLine(FormattableString.Invariant($"reload: {label}: {times.Count} accepted reloads (the watcher may take some): median {times[times.Count / 2]:0} ms, min {times[0]:0} ms, max {times[^1]:0} ms"));
    }
}
finally
{
    dir.Delete(recursive: true);
}

static string RoleText(int roles, int tokens, int variant)
{
    var sb = new StringBuilder("=default.example.com\n");
    for (int r = 0; r < roles; r++)
    {
        sb.Append(CultureInfo.InvariantCulture, $"[role role-{r}]\nmatch source 10.{r / 256}.{r % 256}.0/24\n");
        for (int t = 0; t < tokens; t++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"host-{t}-v{variant}.role-{r}.example.com\n");
        }
    }

    return sb.ToString();
}

static string Plain(int tokens, int variant)
{
    var sb = new StringBuilder();
    for (int t = 0; t < tokens; t++)
    {
        sb.Append(CultureInfo.InvariantCulture, $"host-{t}-v{variant}.example.com\n");
    }

    return sb.ToString();
}

static long Rss()
{
    foreach (var line in File.ReadLines("/proc/self/status"))
    {
        if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
        {
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
    }

    return 0;
}

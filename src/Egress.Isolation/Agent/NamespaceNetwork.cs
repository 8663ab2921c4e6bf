using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Egress.Isolation.Agent;

/// <summary>
/// Sets up the network of a fresh namespace (inside the agent, as the namespace's root): only <c>lo</c>,
/// up, with default routes through it (so a connect to any address reaches the nftables hook instead of
/// failing with "network unreachable"), and one nftables table that redirects every TCP connection to the
/// transparent listeners — any address, any port, loopback included — except connections to the agent's
/// own listeners on loopback. Uses the <c>ip</c> (iproute2) and <c>nft</c> (nftables) programs: two
/// short-lived processes cost a few milliseconds (see docs/PERFORMANCE.md), far less code and risk than
/// hand-written netlink.
/// </summary>
internal static class NamespaceNetwork
{
    /// <summary>The nftables table the agent creates (shown by <c>nft list ruleset</c> inside).</summary>
    public const string Table = "egress_policy";

    /// <summary>Whether this kernel has IPv6 (a namespace without it has no ::1 to redirect to).</summary>
    public static bool HasIPv6 => File.Exists("/proc/net/if_inet6");

    /// <summary>Commands for <c>ip -batch -</c>.</summary>
    public static string IpBatch(bool ipv6)
    {
        var sb = new StringBuilder();
        sb.Append("link set lo up\n");
        sb.Append(Dns.NamespaceResolver.LoopbackAddresses(ipv6));
        sb.Append("route add default via 127.0.0.1 dev lo src 127.0.0.1\n");
        if (ipv6)
        {
            sb.Append("route add ::/0 dev lo src ::1\n");
        }

        return sb.ToString();
    }

    /// <summary>
    /// The nftables ruleset for <c>nft -f -</c>, given the port of each listener by name. Order matters:
    /// the agent's own ports on loopback are accepted first, then every remaining TCP connection is
    /// redirected. ICMP is dropped (there is nowhere to go, and it would otherwise be unrecorded).
    /// </summary>
    public static string Ruleset(IReadOnlyDictionary<string, int> ports)
    {
        ArgumentNullException.ThrowIfNull(ports);
        var ic = CultureInfo.InvariantCulture;
        var own = string.Join(", ", ports.Values.Distinct().Order().Select(p => p.ToString(ic)));
        var sb = new StringBuilder();
        sb.Append(ic, $"table inet {Table} {{\n");
        sb.Append("  chain redirect_out {\n");
        sb.Append("    type nat hook output priority -100; policy accept;\n");
        sb.Append(ic, $"    ip daddr 127.0.0.1 tcp dport {{ {own} }} accept\n");
        sb.Append(Udp.UdpRules.RedirectRules(ports.ContainsKey(AgentListener.Transparent6)));
        sb.Append(ic, $"    meta nfproto ipv4 meta l4proto tcp redirect to :{ports[AgentListener.Transparent]}\n");
        if (ports.TryGetValue(AgentListener.Transparent6, out int p6))
        {
            sb.Append(ic, $"    ip6 daddr ::1 tcp dport {{ {own} }} accept\n");
            sb.Append(ic, $"    meta nfproto ipv6 meta l4proto tcp redirect to :{p6}\n");
        }

        sb.Append("  }\n");
        sb.Append(Udp.UdpRules.FilterChain());
        sb.Append("  chain filter_out {\n");
        sb.Append("    type filter hook output priority 0; policy accept;\n");
        sb.Append("    meta l4proto { icmp, ipv6-icmp } drop\n");
        sb.Append("  }\n");
        sb.Append("}\n");
        return sb.ToString();
    }

    /// <summary>Brings <c>lo</c> up with the default routes (<c>ip -batch -</c>); throws with the program's own error.</summary>
    public static void SetUpLoopback(bool ipv6) => RunTool("ip", ["-batch", "-"], IpBatch(ipv6));

    /// <summary>Installs the redirect rules (<c>nft -f -</c>); throws with the program's own error.</summary>
    public static void Redirect(IReadOnlyDictionary<string, int> ports) => RunTool("nft", ["-f", "-"], Ruleset(ports));

    private static void RunTool(string program, string[] args, string input)
    {
        var psi = new ProcessStartInfo(IsolationRequirements.FindOnPath(program) ?? program)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new IsolationException($"cannot start '{program}'");
        }
        catch (Win32Exception ex)
        {
            throw new IsolationException($"cannot start '{program}' inside the namespace ({ex.Message}); install {(program == "ip" ? "iproute2" : "nftables")}", ex);
        }

        using (process)
        {
            bool sent = true;
            try
            {
                // Bytes to the pipe itself, not through the writer's buffer: a failed write leaves nothing
                // buffered for the process's disposal to flush into a closed pipe again.
                var stdin = process.StandardInput.BaseStream;
                stdin.Write(System.Text.Encoding.UTF8.GetBytes(input));
                stdin.Close();
            }
            catch (IOException)
            {
                // The helper is gone before reading its input (e.g. ended by a signal): its exit status says why.
                sent = false;
            }

            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            process.WaitForExit();
            string output = (stderr.Result + stdout.Result).Trim();
            if (process.ExitCode is > 128 and < 128 + 65 && output.Length == 0)
            {
                // A signal to run's whole process group (CI cancelling the job, Ctrl-C) reaches this helper too.
                int signal = process.ExitCode - 128;
                throw new IsolationException($"'{program} {string.Join(' ', args)}' {IsolatedProcess.EndedBySignal} {signal} ({IsolatedProcess.SignalName(signal)}) while the namespace was being set up; the command was not run");
            }

            if (process.ExitCode != 0 || !sent)
            {
                throw new IsolationException($"'{program} {string.Join(' ', args)}' failed inside the namespace (exit {process.ExitCode}{(sent ? string.Empty : ", before reading its input")}): {output}");
            }
        }
    }
}

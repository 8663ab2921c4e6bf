using System.CommandLine;
using System.Globalization;
using Egress.Proxy;

namespace Egress.Cli.Commands;

/// <summary>The proxy's limit flags, shared by <c>proxy</c> and <c>run</c>.</summary>
internal sealed class ProxyFlags
{
    /// <summary>Largest accepted <c>--max-header-bytes</c>.</summary>
    public const int MaxHeaderBytesLimit = 1024 * 1024;

    /// <summary>Smallest accepted <c>--max-header-bytes</c>.</summary>
    public const int MinHeaderBytes = 1024;

    /// <summary>Largest accepted timeout, in seconds (one day).</summary>
    public const double MaxSeconds = 86400;

    // The defaults are shown once, by System.CommandLine's "[default: …]"; the descriptions do not repeat them.
    public Option<int> MaxConnections { get; } = new("--max-connections") { Description = "Most simultaneous client connections, at least 1; more get 503.", DefaultValueFactory = _ => ProxyDefaults.MaxConnections, HelpName = "N" };

    public Option<int> MaxHeaderBytes { get; } = new("--max-header-bytes") { Description = $"Largest request head, {MinHeaderBytes} to {MaxHeaderBytesLimit}; larger gets 431.", DefaultValueFactory = _ => ProxyDefaults.MaxHeaderBytes, HelpName = "BYTES" };

    public Option<double> HeaderTimeout { get; } = new("--header-timeout") { Description = "Seconds (more than 0, at most 86400) a client has to send a request head; slower gets 408.", DefaultValueFactory = _ => ProxyDefaults.HeaderTimeout.TotalSeconds, HelpName = "SECONDS" };

    public Option<double> IdleTimeout { get; } = new("--idle-timeout") { Description = "Seconds (more than 0, at most 86400) without traffic before a tunnel or idle connection is closed.", DefaultValueFactory = _ => ProxyDefaults.IdleTimeout.TotalSeconds, HelpName = "SECONDS" };

    public Option<double> ConnectTimeout { get; } = new("--connect-timeout") { Description = "Seconds (more than 0, at most 86400) for resolving and connecting to a destination; slower gets 504.", DefaultValueFactory = _ => ProxyDefaults.ConnectTimeout.TotalSeconds, HelpName = "SECONDS" };

    public void AddTo(Command command)
    {
        command.Options.Add(MaxConnections);
        command.Options.Add(MaxHeaderBytes);
        command.Options.Add(HeaderTimeout);
        command.Options.Add(IdleTimeout);
        command.Options.Add(ConnectTimeout);
    }

    /// <summary>Reads the flags into options; null, and one message per flag out of range naming it and its range, otherwise.</summary>
    public ProxyOptions? Read(ParseResult parse, System.Net.IPEndPoint listen, TextWriter error)
    {
        int maxConnections = parse.GetValue(MaxConnections);
        int maxHeader = parse.GetValue(MaxHeaderBytes);
        double header = parse.GetValue(HeaderTimeout), idle = parse.GetValue(IdleTimeout), connect = parse.GetValue(ConnectTimeout);
        var problems = new List<string>();
        if (maxConnections < 1)
        {
            problems.Add(OutOfRange(MaxConnections.Name, maxConnections.ToString(CultureInfo.InvariantCulture), "at least 1"));
        }

        if (maxHeader is < MinHeaderBytes or > MaxHeaderBytesLimit)
        {
            problems.Add(OutOfRange(MaxHeaderBytes.Name, maxHeader.ToString(CultureInfo.InvariantCulture), $"from {MinHeaderBytes} to {MaxHeaderBytesLimit}"));
        }

        CheckSeconds(HeaderTimeout, header, problems);
        CheckSeconds(IdleTimeout, idle, problems);
        CheckSeconds(ConnectTimeout, connect, problems);
        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                error.WriteLine(problem);
            }

            return null;
        }

        return new ProxyOptions
        {
            Listen = listen,
            MaxConnections = maxConnections,
            MaxHeaderBytes = maxHeader,
            MaxRequestLineBytes = Math.Min(ProxyDefaults.MaxRequestLineBytes, maxHeader),
            HeaderTimeout = TimeSpan.FromSeconds(header),
            IdleTimeout = TimeSpan.FromSeconds(idle),
            ConnectTimeout = TimeSpan.FromSeconds(connect),
        };
    }

    private static void CheckSeconds(Option<double> option, double seconds, List<string> problems)
    {
        // NaN fails both comparisons, so it is out of range too.
        if (!(seconds > 0 && seconds <= MaxSeconds))
        {
            problems.Add(OutOfRange(option.Name, seconds.ToString(CultureInfo.InvariantCulture), $"more than 0 and at most {MaxSeconds.ToString(CultureInfo.InvariantCulture)} seconds"));
        }
    }

    private static string OutOfRange(string flag, string value, string range)
        => $"egress-policy: {flag} {CliText.Bounded(value, 32)} is out of range: must be {range}";
}

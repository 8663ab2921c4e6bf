using System.CommandLine;
using System.CommandLine.Parsing;
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

    private const string SecondsRange = "more than 0 and at most 86400 seconds";

    // The defaults are shown once, by System.CommandLine's "[default: …]"; the descriptions do not repeat them.
    public Option<int> MaxConnections { get; } = Count("--max-connections", "Most simultaneous client connections, at least 1; more get 503.", ProxyDefaults.MaxConnections, "N", "at least 1");

    public Option<int> MaxHeaderBytes { get; } = Count("--max-header-bytes", $"Largest request head, {MinHeaderBytes} to {MaxHeaderBytesLimit}; larger gets 431.", ProxyDefaults.MaxHeaderBytes, "BYTES", $"from {MinHeaderBytes} to {MaxHeaderBytesLimit}");

    public Option<double> HeaderTimeout { get; } = Seconds("--header-timeout", "Seconds (more than 0, at most 86400) a client has to send a request head; slower gets 408.", ProxyDefaults.HeaderTimeout);

    public Option<double> IdleTimeout { get; } = Seconds("--idle-timeout", "Seconds (more than 0, at most 86400) without traffic before a tunnel or idle connection is closed.", ProxyDefaults.IdleTimeout);

    public Option<double> ConnectTimeout { get; } = Seconds("--connect-timeout", "Seconds (more than 0, at most 86400) for resolving and connecting to a destination; slower gets 504.", ProxyDefaults.ConnectTimeout);

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
        // NaN fails both comparisons, so it is out of range too; so is a value too small to be one tick (100 ns),
        // which would be a zero timeout.
        if (!(seconds > 0 && seconds <= MaxSeconds) || TimeSpan.FromSeconds(seconds) <= TimeSpan.Zero)
        {
            problems.Add(OutOfRange(option.Name, seconds.ToString(CultureInfo.InvariantCulture), SecondsRange));
        }
    }

    private static string OutOfRange(string flag, string value, string range)
        => $"egress-policy: {flag} {CliText.Bounded(value, 32)} is out of range: must be {range}";

    // Own parsers, so a value that is not a number is named with the flag and its range, not as "System.Double".
    private static Option<int> Count(string flag, string description, int fallback, string helpName, string range) => new(flag)
    {
        Description = description,
        DefaultValueFactory = _ => fallback,
        HelpName = helpName,
        CustomParser = r => Parse(r, flag, fallback, range, static t => int.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) ? v : null),
    };

    private static Option<double> Seconds(string flag, string description, TimeSpan fallback) => new(flag)
    {
        Description = description,
        DefaultValueFactory = _ => fallback.TotalSeconds,
        HelpName = "SECONDS",
        CustomParser = r => Parse(r, flag, fallback.TotalSeconds, SecondsRange, static t => double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : null),
    };

    private static T Parse<T>(ArgumentResult result, string flag, T fallback, string range, Func<string, T?> parse)
        where T : struct
    {
        if (result.Tokens.Count == 0)
        {
            return fallback;
        }

        string text = result.Tokens[^1].Value;
        if (parse(text) is { } value)
        {
            return value;
        }

        result.AddError($"{flag} '{CliText.Bounded(text, 32)}' is not a number: must be {range}");
        return fallback;
    }
}

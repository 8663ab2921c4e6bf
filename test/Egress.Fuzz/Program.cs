using Egress.Fuzz;
using SharpFuzz;

// One afl-fuzz target per run: `dotnet Egress.Fuzz.dll <target>` reads inputs on stdin (see eng/fuzz.sh).
// `--list` prints the targets; `--replay <target> <file|dir>...` runs inputs once without afl (regressions).
if (args.Length == 1 && args[0] == "--list")
{
    foreach (var name in FuzzTargets.All.Keys.Order(StringComparer.Ordinal))
    {
        Console.WriteLine(name);
    }

    return 0;
}

if (args.Length >= 3 && args[0] == "--replay" && FuzzTargets.All.TryGetValue(args[1], out var replayed))
{
    return Replay.Run(replayed, args[2..]);
}

if (args.Length != 1 || !FuzzTargets.All.TryGetValue(args[0], out var target))
{
    Console.Error.WriteLine($"usage: Egress.Fuzz <target> | --list | --replay <target> <file|dir>...; targets: {string.Join(", ", FuzzTargets.All.Keys.Order(StringComparer.Ordinal))}");
    return 1;
}

var buffer = new MemoryStream();
Fuzzer.Run(stream =>
{
    buffer.SetLength(0);
    stream.CopyTo(buffer);
    target(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
});
return 0;

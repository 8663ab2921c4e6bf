using System.Runtime.InteropServices;

namespace Egress.Cli;

/// <summary>
/// Gives <c>egress-policy proxy</c> a 4 MiB gen0 budget. The runtime's default is sized from the CPU cache, and a
/// proxy allocating ≈ 10 KB per new tunnel then grew to ≈ 105 MiB under load for a live set of about 1 MiB
/// (docs/PERFORMANCE.md, "Issue 13, third pass"); with <c>DOTNET_GCgen0size=400000</c> the peak is ≈ 31 MiB at
/// the same throughput. That knob is read only from the environment when the runtime starts (a baked
/// <c>GCgen0size</c> or <c>System.GC.Gen0Size</c> is ignored, by Native AOT and by the JIT runtime alike), so a
/// long-running proxy started without it re-executes itself once, first thing, with the variable added: the same
/// program, arguments and process ID. An operator's own value (any, <c>0</c> = the runtime's default) wins; if the
/// re-execution fails the proxy simply runs untuned. <c>run</c> is not re-executed (its start-up is measured in
/// milliseconds).
/// </summary>
internal static partial class GcTuning
{
    /// <summary>The runtime's variable.</summary>
    public const string Variable = "DOTNET_GCgen0size";

    /// <summary>4 MiB, in the hexadecimal (without <c>0x</c>) the runtime reads it as.</summary>
    public const string Value = "400000";

    /// <summary>Whether <paramref name="args"/> and the environment ask for the re-execution.</summary>
    public static bool Wanted(string[] args, Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        return OperatingSystem.IsLinux() && args is ["proxy", ..] && !args.Contains("--help") && !args.Contains("-h")
               && environment(Variable) is null;
    }

    /// <summary>Re-executes this process with <see cref="Variable"/> set when <see cref="Wanted"/>; returns only when it did not.</summary>
    public static void Apply(string[] args)
    {
        if (!Wanted(args, Environment.GetEnvironmentVariable))
        {
            return;
        }

        byte[] commandLine, environment;
        try
        {
            // The exact bytes the process was started with (not re-encoded arguments), and the environment as
            // it was at start (nothing in this process has changed it yet).
            commandLine = File.ReadAllBytes("/proc/self/cmdline");
            environment = File.ReadAllBytes("/proc/self/environ");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return;
        }

        var argv = Split(commandLine);
        var envp = Split(environment);
        envp.Add(System.Text.Encoding.UTF8.GetBytes(Variable + "=" + Value));
        if (argv.Count == 0)
        {
            return;
        }

        var pointers = new List<IntPtr>();
        try
        {
            var argvPointers = ToPointers(argv, pointers);
            var envpPointers = ToPointers(envp, pointers);
            _ = Execve("/proc/self/exe", argvPointers, envpPointers); // returns only on failure
        }
        finally
        {
            foreach (var p in pointers)
            {
                Marshal.FreeHGlobal(p);
            }
        }
    }

    /// <summary>Splits NUL-terminated strings (as in <c>/proc/self/cmdline</c>).</summary>
    internal static List<byte[]> Split(byte[] block)
    {
        var parts = new List<byte[]>();
        int start = 0;
        for (int i = 0; i < block.Length; i++)
        {
            if (block[i] == 0)
            {
                parts.Add(block[start..i]);
                start = i + 1;
            }
        }

        if (start < block.Length)
        {
            parts.Add(block[start..]);
        }

        return parts;
    }

    private static IntPtr[] ToPointers(List<byte[]> strings, List<IntPtr> allocated)
    {
        var result = new IntPtr[strings.Count + 1];
        for (int i = 0; i < strings.Count; i++)
        {
            var p = Marshal.AllocHGlobal(strings[i].Length + 1);
            allocated.Add(p);
            Marshal.Copy(strings[i], 0, p, strings[i].Length);
            Marshal.WriteByte(p, strings[i].Length, 0);
            result[i] = p;
        }

        return result; // NULL-terminated
    }

    [LibraryImport("libc", EntryPoint = "execve", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Execve(string path, IntPtr[] argv, IntPtr[] envp);
}

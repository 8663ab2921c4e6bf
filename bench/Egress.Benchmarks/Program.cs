using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Egress.Benchmarks.Policy;

namespace Egress.Benchmarks;

/// <summary>Runs the benchmarks chosen on the command line (e.g. <c>--filter *Decision*</c>).</summary>
public static class Program
{
    /// <summary>
    /// <c>--thread-cpu-clock</c> adds a short in-process job timed by the thread's CPU time instead of the
    /// wall clock, for a machine that other work keeps busy (see docs/PERFORMANCE.md).
    /// </summary>
    public static void Main(string[] args)
    {
        IConfig? config = null;
        if (args.Contains("--thread-cpu-clock"))
        {
            args = [.. args.Where(a => a != "--thread-cpu-clock")];
            config = DefaultConfig.Instance.AddJob(Job.ShortRun
                .WithClock(ThreadCpuClock.Instance)
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithId("ShortRun-ThreadCpuClock"));
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
    }
}

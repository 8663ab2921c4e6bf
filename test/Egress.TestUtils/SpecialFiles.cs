using System.Diagnostics;
using Xunit;

namespace Egress.TestUtils;

/// <summary>Special files for tests of code that must refuse them (made with the real <c>mkfifo</c>).</summary>
public static class SpecialFiles
{
    /// <summary>Creates a FIFO (named pipe) at <paramref name="path"/> and returns the path.</summary>
    public static string MakeFifo(string path)
    {
        using var mkfifo = Process.Start("mkfifo", [path]) ?? throw new InvalidOperationException("cannot start mkfifo");
        Assert.True(mkfifo.WaitForExit(10_000), "mkfifo did not finish");
        Assert.Equal(0, mkfifo.ExitCode);
        return path;
    }
}

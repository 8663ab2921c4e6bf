using CsCheck;
using Egress.Cli.Governance;

namespace Egress.Governance.Tests;

public class WorkflowCommandTests
{
    [Fact]
    public void Format_FileAndLine_ProducesGitHubErrorCommand()
        => Assert.Equal("::error file=a/b.props,line=7,title=Version floor::x below y", WorkflowCommand.Format("error", "Version floor", "x below y", "a/b.props", 7));

    [Fact]
    public void Format_NewlinesInMessage_CannotStartASecondCommand()
    {
        string line = WorkflowCommand.Format("error", "t", "evil\n::add-mask::secret\r%", "f,line=1:x");

        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain('\r', line);
        Assert.Equal("::error file=f%2Cline=1%3Ax,title=t::evil%0A::add-mask::secret%0D%25", line);
    }

    [Fact]
    public void Format_ArbitraryText_IsAlwaysOneLineWithOneCommandSeparator()
        => Gen.Select(Gen.String, Gen.String, Gen.String).Sample((title, message, file) =>
        {
            string line = WorkflowCommand.Format("error", title, message, file, 3);
            Assert.DoesNotContain('\n', line);
            Assert.DoesNotContain('\r', line);
            int separator = line.IndexOf("::", 2, StringComparison.Ordinal);
            Assert.DoesNotContain(',', line[..separator].Replace(",line=3,title=", string.Empty, StringComparison.Ordinal));
            Assert.Equal(message, Unescape(line[(separator + 2)..]));
        });

    private static string Unescape(string data)
        => data.Replace("%0A", "\n", StringComparison.Ordinal).Replace("%0D", "\r", StringComparison.Ordinal).Replace("%25", "%", StringComparison.Ordinal);
}

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
}

using Egress.Policy.FileSystem;

namespace Egress.Policy.Tests.FileSystem;

/// <summary>"cannot VERB WHAT PATH: REASON", with the file named once however the reason was worded.</summary>
public sealed class FileErrorsTests
{
    [Theory]
    [InlineData("lock file /x is a directory, not a regular file", "cannot read lock file /x: it is a directory, not a regular file")]
    [InlineData("lock file /x does not exist", "cannot read lock file /x: it does not exist")]
    [InlineData("cannot open lock file /x: Permission denied (errno 13)", "cannot read lock file /x: Permission denied (errno 13)")]
    [InlineData("/x is neither an egress journal (JSON lines) nor an egress-summary.json", "cannot read lock file /x: it is neither an egress journal (JSON lines) nor an egress-summary.json")]
    [InlineData("cannot verify /x: the key is too short", "cannot read lock file /x: cannot verify: the key is too short")]
    [InlineData("no such file: /x", "cannot read lock file /x: no such file")]
    [InlineData("Is a directory : '/x'", "cannot read lock file /x: Is a directory")]
    [InlineData("Permission denied", "cannot read lock file /x: Permission denied")]
    [InlineData("Access to the path '/x' is denied.", "cannot read lock file /x: Access to the path is denied.")]
    [InlineData("Could not find a part of the path '/x'.", "cannot read lock file /x: Could not find a part of the path.")]
    public void Describe_NamesTheFileOnce(string reason, string expected)
    {
        string message = FileErrors.Describe("read", "lock file", "/x", new IOException(reason));

        Assert.Equal(expected, message);
        Assert.Equal(1, CountOf(message, "/x"));
    }

    [Fact]
    public void Describe_DirectoryOpenedForReading_SaysSoInsteadOfAccessDenied()
    {
        string dir = Path.GetTempPath().TrimEnd('/');

        string message = FileErrors.Describe("read", "summary", dir, new UnauthorizedAccessException($"Access to the path '{dir}' is denied."));

        Assert.Equal($"cannot read summary {dir}: it is a directory, not a file", message);
    }

    private static int CountOf(string text, string part)
    {
        int count = 0;
        for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}

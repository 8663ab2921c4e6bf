namespace Egress.Policy.Tests;

/// <summary>The one sanitiser: control characters become '?', line breaks only when the caller does not escape them itself.</summary>
public sealed class SafeTextTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a\u001b[31mb", "a?[31mb")]
    [InlineData("a\r\nb", "a??b")]
    [InlineData("\u0000\u0009\u000b\u001f\u007f\u0085\u009f", "???????")]
    [InlineData("  ::error::x", "  %3A%3Aerror::x")]
    public void Line_ReplacesEveryControlCharacter(string text, string expected)
        => Assert.Equal(expected, SafeText.Line(text));

    [Theory]
    [InlineData("a\r\nb", "a\r\nb")]
    [InlineData("a\u001b\rb\u0000\nc\u0085", "a?\rb?\nc?")]
    [InlineData("\t\u000b\u000c\u000e", "????")]
    public void ReplaceControls_KeepingLineBreaks_KeepsOnlyCrAndLf(string text, string expected)
        => Assert.Equal(expected, SafeText.ReplaceControls(text, keepLineBreaks: true));

    [Fact]
    public void ReplaceControls_EveryCharacter_AgreesWithCharIsControl()
    {
        for (int c = 0; c <= 0xffff; c++)
        {
            string s = ((char)c).ToString();
            bool kept = c is '\r' or '\n';
            Assert.Equal(char.IsControl((char)c) ? "?" : s, SafeText.ReplaceControls(s, keepLineBreaks: false));
            Assert.Equal(char.IsControl((char)c) && !kept ? "?" : s, SafeText.ReplaceControls(s, keepLineBreaks: true));
        }
    }
}

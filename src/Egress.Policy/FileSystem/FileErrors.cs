namespace Egress.Policy.FileSystem;

/// <summary>
/// One way to say why a file could not be read or written: <c>cannot VERB WHAT PATH: REASON</c>, naming the
/// file once. The policy's own file errors (<see cref="RegularFile"/>, <c>LockFile</c>) already start with
/// what and where ("lock file /x is a FIFO …"); wrapping them again printed "cannot read lock file: lock
/// file /x …".
/// </summary>
public static class FileErrors
{
    /// <summary>
    /// <c>cannot VERB WHAT PATH: REASON</c> for a failed <paramref name="verb"/> (read, write) of
    /// <paramref name="what"/> (e.g. "lock file") at <paramref name="path"/>. When the exception's text
    /// already names the path ("WHAT PATH is …", "PATH is …", "cannot open WHAT PATH: …", "cannot X PATH: …",
    /// "…: PATH"), the path is not repeated.
    /// </summary>
    public static string Describe(string verb, string what, string path, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        string reason = Reason(path, exception);
        string named = $"{what} {path}";
        if (string.IsNullOrEmpty(path))
        {
            return $"cannot {verb} {what}: {reason}";
        }

        if (reason.StartsWith(named + " ", StringComparison.Ordinal))
        {
            // "lock file /x is a directory, …" → "it is a directory, …"
            reason = "it " + reason[(named.Length + 1)..];
        }
        else if (reason.StartsWith(path + " ", StringComparison.Ordinal))
        {
            // "/x is neither a journal nor a summary" → "it is neither …"
            reason = "it " + reason[(path.Length + 1)..];
        }
        else if (reason.StartsWith($"cannot open {named}: ", StringComparison.Ordinal) || reason.StartsWith($"cannot {verb} {named}: ", StringComparison.Ordinal))
        {
            // "cannot open lock file /x: No such file or directory" → "No such file or directory"
            reason = reason[(reason.IndexOf(named + ": ", StringComparison.Ordinal) + named.Length + 2)..];
        }
        else if (reason.StartsWith("cannot ", StringComparison.Ordinal) && reason.Contains($" {path}: ", StringComparison.Ordinal))
        {
            // "cannot verify /x: the key is too short" → "cannot verify: the key is too short"
            reason = reason.Replace($" {path}: ", ": ", StringComparison.Ordinal);
        }
        else if (reason.EndsWith($" : '{path}'", StringComparison.Ordinal))
        {
            // .NET's "Is a directory : '/x'" → "Is a directory"
            reason = reason[..^(path.Length + 5)];
        }
        else if (reason.EndsWith(": " + path, StringComparison.Ordinal))
        {
            // "no such file: /x" → "no such file"
            reason = reason[..^(path.Length + 2)];
        }
        else if (reason.Contains($" '{path}'", StringComparison.Ordinal))
        {
            // .NET's "Access to the path '/x' is denied." → "Access to the path is denied."
            reason = reason.Replace($" '{path}'", string.Empty, StringComparison.Ordinal);
        }

        return $"cannot {verb} {named}: {reason}";
    }

    /// <summary>
    /// The reason an I/O call on <paramref name="path"/> failed. .NET reports opening a directory as "Access to
    /// the path … is denied", which sends people after permissions; this says what it is.
    /// </summary>
    public static string Reason(string path, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception is UnauthorizedAccessException && Directory.Exists(path) ? "it is a directory, not a file" : exception.Message;
    }
}

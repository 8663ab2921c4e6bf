namespace Egress.Isolation;

/// <summary>Isolation could not be set up; the message names the cause and what to do about it.</summary>
public sealed class IsolationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public IsolationException()
    {
    }

    /// <summary>Creates the exception with a message a user can act on.</summary>
    public IsolationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public IsolationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

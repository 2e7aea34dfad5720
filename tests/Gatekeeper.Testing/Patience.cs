namespace Gatekeeper.Tests;

/// <summary>
/// How long a test waits in wall-clock time for something that must happen (a condition, an answer, a process): long
/// enough that only a hang reaches it, on a CI machine whose two cores are shared with several test processes. It is
/// never what a test measures; a test of a time budget moves a fake clock instead.
/// </summary>
public static class Patience
{
    public static TimeSpan Default { get; } = TimeSpan.FromMinutes(2);
}

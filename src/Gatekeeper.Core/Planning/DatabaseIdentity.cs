namespace Gatekeeper.Core.Planning;

/// <summary>
/// Which database a plan is for, without credentials: it goes into the plan hash, messages and metrics,
/// so it must never carry a user name or password.
/// </summary>
public sealed record DatabaseIdentity(string Engine, string Host, int Port, string Database, string HistoryTable)
{
    public override string ToString() => $"{Engine}://{Host}:{Port}/{Database} (history {HistoryTable})";
}

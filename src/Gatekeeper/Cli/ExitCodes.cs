namespace Gatekeeper.Cli;

/// <summary>The documented exit codes of every <c>gatekeeper</c> command.</summary>
public static class ExitCodes
{
    /// <summary>Success: the plan is clean, the migrations applied, the lint found nothing blocking.</summary>
    public const int Ok = 0;

    /// <summary>The plan is rejected (drift, dirty, lint errors, dry-run failure) or a migration failed.</summary>
    public const int Rejected = 1;

    /// <summary>Usage or configuration error: bad flag, missing directory, unreadable or malformed files,
    /// malformed URL, wrong credentials, unreachable database.</summary>
    public const int UsageOrConfiguration = 2;
}

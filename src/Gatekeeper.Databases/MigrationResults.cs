using System.Diagnostics.CodeAnalysis;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Databases;

/// <summary>
/// Why a migration (or its dry-run) stopped: where, what the server said, and whether it left the database dirty.
/// </summary>
/// <param name="MigrationId">The migration's id as its history table records it.</param>
/// <param name="File">The migration's file.</param>
/// <param name="Location">The failing statement's position (refined to the server's error position when it gives one);
/// null when the failure was not a statement's (a broken connection while writing history).</param>
/// <param name="Kind">The error class, from <see cref="DatabaseErrorClassifier"/>.</param>
/// <param name="ServerMessage">The server's own message (never a URL or password).</param>
/// <param name="ServerCode">SQLSTATE or MySQL error number.</param>
/// <param name="LeftDirty">True when part of the migration was committed before it failed, so the history marks it dirty.</param>
/// <param name="Statement">The failing statement's text, for detailed output.</param>
public sealed record MigrationFailure(
    string MigrationId,
    string File,
    SourceLocation? Location,
    DatabaseErrorKind Kind,
    string ServerMessage,
    string? ServerCode,
    bool LeftDirty,
    string? Statement)
{
    /// <summary><c>V3__x.sql:12:5: column "y" does not exist</c>.</summary>
    public override string ToString() => $"{(Location is { } at ? at.ToString() : File)}: {ServerMessage}";
}

/// <summary>The outcome of applying one migration.</summary>
/// <param name="Attempts">How many times it ran; above 1 when a lock timeout was retried.</param>
public sealed record MigrationApplyResult(Migration Migration, TimeSpan Elapsed, int Attempts, MigrationFailure? Failure)
{
    [MemberNotNullWhen(false, nameof(Failure))]
    public bool Succeeded => Failure is null;
}

/// <summary>A statement a dry-run could not check, and why (it cannot run inside a transaction, it switches databases).</summary>
public sealed record DryRunNote(SourceLocation Location, string Message)
{
    public override string ToString() => $"{Location}: {Message}";
}

/// <summary>How a dry-run was done.</summary>
public enum DryRunMode
{
    /// <summary>
    /// On the target database itself: the whole plan in one transaction with tight lock and statement timeouts, rolled
    /// back (engines with transactional DDL only). It takes the plan's locks on production tables for up to the lock timeout.
    /// </summary>
    Transaction,
    /// <summary>
    /// Off production: the live structure replayed into a throwaway database on a dev server (or the target's own
    /// server), the plan applied there, the database dropped.
    /// </summary>
    Shadow,
}

/// <summary>How to dry-run: where the plan is tried.</summary>
/// <param name="Mode">Off production (<see cref="DryRunMode.Shadow"/>, the default) or in a rolled-back transaction on the target.</param>
/// <param name="DevServer">The server to create the throwaway copy on; null for the target's own server. Its credential
/// needs only <see cref="DatabasePrivilege.CreateThrowawayDatabases"/>.</param>
public sealed record DryRunSettings(DryRunMode Mode = DryRunMode.Shadow, DatabaseUrl? DevServer = null)
{
    /// <summary>A throwaway copy on the target's own server.</summary>
    public static DryRunSettings OffProduction { get; } = new();
}

/// <summary>The outcome of a dry-run: ok, or the statement that failed, where, and the server's message.</summary>
/// <param name="Checked">Migrations that ran completely in the dry-run.</param>
/// <param name="Notes">Statements that were not checked, with the reason.</param>
public sealed record DryRunReport(DryRunMode Mode, IReadOnlyList<Migration> Checked, MigrationFailure? Failure, IReadOnlyList<DryRunNote> Notes, TimeSpan Elapsed)
{
    [MemberNotNullWhen(false, nameof(Failure))]
    public bool Succeeded => Failure is null;

    /// <summary>The throwaway database a shadow dry-run used (already dropped), for logs; null for a transaction dry-run.</summary>
    public string? ShadowDatabase { get; init; }

    /// <summary>Where that throwaway database lived (<c>host:port</c>); null for a transaction dry-run.</summary>
    public string? ShadowServer { get; init; }
}

/// <summary>The outcome of clearing a dirty mark.</summary>
/// <param name="Cleared">False when the migration was not marked dirty (nothing was changed).</param>
public sealed record RepairResult(string MigrationId, bool Cleared, string Message);

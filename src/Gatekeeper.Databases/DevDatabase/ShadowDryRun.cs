using Gatekeeper.Core.Migrations;
using Gatekeeper.Databases.Execution;
using Microsoft.Extensions.Logging;

namespace Gatekeeper.Databases.DevDatabase;

/// <summary>
/// The dry-run that leaves the target database alone: read the live structure (catalog reads only), replay it into a
/// throwaway database on a dev server (or, without one, on the target's own server), apply the plan there as the
/// migration Job would (a transactional migration in a transaction, the rest statement by statement), and drop the
/// copy whatever happens. Rows are not copied: failures that depend on data are the data pre-checks' to find.
/// </summary>
internal sealed class ShadowDryRun(MigrationDatabaseOptions options, string liveLabel, ILogger logger)
{
    public async Task<DryRunReport> RunAsync(DbSession live, DatabaseUrl liveUrl, DatabaseUrl server, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        var engine = live.Engine;
        var time = options.TimeProvider;
        var started = time.GetTimestamp();
        var notes = new List<DryRunNote>();
        var checkedMigrations = new List<Migration>();
        var name = ThrowawayDatabase.NewName(time);
        var snapshot = await DatabasePermissions.RequireAsync(liveUrl, $"read the catalog of {liveUrl.Database}", DatabasePrivilege.ReadCatalog,
            () => engine.ReadSnapshotAsync(live, name, cancellationToken)).ConfigureAwait(false);

        await using var copy = await ThrowawayDatabase.CreateAsync(server, name, snapshot.DatabaseOptions, time, logger, cancellationToken).ConfigureAwait(false);
        DryRunReport Report(MigrationFailure? failure) =>
            new(DryRunMode.Shadow, checkedMigrations, failure, notes, time.GetElapsedTime(started)) { ShadowDatabase = copy.Name, ShadowServer = server.Endpoint };

        await using var session = await copy.OpenSessionAsync(cancellationToken).ConfigureAwait(false);
        session.CommandTimeoutSeconds = (int)Math.Ceiling(options.DryRunStatementTimeout.TotalSeconds);
        // The replay is Gatekeeper's own; the reset before each file takes this back, so the files run as the Job's do.
        session.LimitOwnStatements(options.OwnStatementTimeout);
        if (await snapshot.ReplayAsync(session, cancellationToken).ConfigureAwait(false) is { } replayFailure)
        {
            var error = DatabaseErrorClassifier.Classify(replayFailure.Error)!;
            throw new DatabaseException(
                error.Kind,
                $"could not copy {replayFailure.Object.Kind} {replayFailure.Object.Name} of {liveLabel} into a throwaway database on {server.Endpoint} for the dry-run: {error.ServerMessage}",
                error.ServerCode,
                replayFailure.Error);
        }

        Log.ShadowDatabaseCreated(logger, snapshot.Objects.Count, liveLabel, copy.Name, server.Endpoint);
        for (var i = 0; i < migrations.Count; i++)
        {
            // Each file in a session as fresh as migrate gives it (a pooled session, reset when handed out again): a SET
            // in one file (FOREIGN_KEY_CHECKS = 0, check_function_bodies = off) must not make a later file pass here that
            // fails in the Job, and neither may whatever the structure's replay set. The session is reset, not reopened (a
            // new unpooled connection per file cost ~45 ms each on PostgreSQL, a server process and an authentication: 4.5 s
            // of a 100-file dry-run inside the admission budget), then set to resolve names as the live database does.
            await engine.ResetSessionAsync(session, cancellationToken).ConfigureAwait(false);
            await snapshot.ApplyPlanSettingsAsync(session, cancellationToken).ConfigureAwait(false);

            var failure = await ApplyAsync(session, migrations[i], snapshot.PlanModes, notes, cancellationToken).ConfigureAwait(false);
            if (failure is not null)
            {
                return Report(failure);
            }

            checkedMigrations.Add(migrations[i]);
        }

        return Report(null);
    }

    private async Task<MigrationFailure?> ApplyAsync(DbSession copy, Migration migration, Core.Sql.SqlModes modes, List<DryRunNote> notes, CancellationToken cancellationToken)
    {
        var engine = copy.Engine;
        // Cut as the live session reads it: the copy's session runs in the live session's sql_mode (PlanSettings).
        var script = MigrationScript.Prepare(migration, engine, MigrationScript.MajorVersion(copy.Connection.ServerVersion), modes, out var problems);
        if (problems.Count > 0)
        {
            return new MigrationFailure(migration.Id, migration.FileName, problems[0].Location, DatabaseErrorKind.Syntax, problems[0].Message, null, false, null);
        }

        var inTransaction = script.Mode == ExecutionMode.Transaction;
        if (inTransaction)
        {
            await copy.BeginAsync(cancellationToken).ConfigureAwait(false);
        }

        // A file run statement by statement may open its own transaction (the runner's "COMMIT; CREATE INDEX
        // CONCURRENTLY …; BEGIN;" pattern): followed as the applier follows it, committed at the end if left open.
        var ownTransaction = false;
        try
        {
            foreach (var statement in script.Statements)
            {
                if (MigrationScript.FirstWord(statement.Statement) == "USE")
                {
                    Note(notes, statement, "USE is not sent in a dry-run on a copy; it would leave the copy");
                    continue;
                }

                if (inTransaction)
                {
                    await copy.ExecuteAsync("SAVEPOINT gatekeeper_dry_run", cancellationToken).ConfigureAwait(false);
                }

                try
                {
                    await copy.ExecuteStatementAsync(statement.Text, cancellationToken).ConfigureAwait(false);
                    if (inTransaction)
                    {
                        await copy.ExecuteAsync("RELEASE SAVEPOINT gatekeeper_dry_run", cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (NamesServerPrincipal(engine, statement, ex))
                {
                    if (inTransaction)
                    {
                        await copy.ExecuteAsync("ROLLBACK TO SAVEPOINT gatekeeper_dry_run", cancellationToken).ConfigureAwait(false);
                    }

                    Note(notes, statement, "not checked: it names users or roles, which belong to the server and are not copied");
                }
                catch (Exception ex) when (DatabaseErrorClassifier.Classify(ex) is { } error)
                {
                    if (ownTransaction)
                    {
                        await copy.ExecuteAsync("ROLLBACK", CancellationToken.None).ConfigureAwait(false);
                    }

                    return MigrationApplier.Failure(script, engine.Locate(statement.Statement, ex), error, leftDirty: false, statement.Text);
                }

                ownTransaction = statement.Control switch
                {
                    TransactionControl.Begin => true,
                    TransactionControl.Commit or TransactionControl.Rollback => false,
                    _ => ownTransaction,
                };
            }

            if (ownTransaction)
            {
                await copy.ExecuteAsync("COMMIT", cancellationToken).ConfigureAwait(false);
            }

            if (inTransaction)
            {
                await copy.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            return null;
        }
        finally
        {
            await copy.RollbackQuietlyAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A statement that fails in the copy only because users and roles are the server's (GRANT to a role the dev server
    /// does not have, or that the dev credential may not grant): what it does is not a schema change to check.
    /// </summary>
    private static bool NamesServerPrincipal(SqlEngine engine, ScriptStatement statement, Exception exception)
    {
        if (engine.NamesMissingServerPrincipal(exception))
        {
            return true;
        }

        var first = MigrationScript.FirstWord(statement.Statement);
        var second = MigrationScript.FirstWord(statement.Statement, 1);
        var aboutPrincipals = first is "GRANT" or "REVOKE" || (first is "CREATE" or "ALTER" or "DROP" or "RENAME" && second is "USER" or "ROLE");
        return aboutPrincipals && DatabaseErrorClassifier.Classify(exception)?.Kind == DatabaseErrorKind.PermissionDenied;
    }

    private void Note(List<DryRunNote> notes, ScriptStatement statement, string message)
    {
        notes.Add(new DryRunNote(statement.Location, message));
        Log.DryRunStatementSkipped(logger, statement.Location.ToString(), message);
    }
}

using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Analysis;

/// <summary>A migration's statements cut and parsed, one at a time, and what the cutting found wrong.</summary>
internal sealed class PreparedMigration(Migration migration)
{
    public Migration Migration { get; } = migration;

    /// <summary>Read once, in order, to the end.</summary>
    public IEnumerable<StatementUnit> Statements { get; set; } = [];

    /// <summary>The lexical problems of the migration's text: known once <see cref="Statements"/> has been read to the end.</summary>
    public IReadOnlyList<SqlSyntaxProblem> Problems { get; set; } = [];
}

/// <summary>
/// Hands the linter each migration prepared: cut into statements and parsed. Preparing needs no plan state,
/// judging does; so with a spare core a second thread prepares the migrations in order, ahead of the thread that judges
/// them, and the judging thread takes exactly what it would have computed itself, in the same order: the findings do not
/// change. The second thread stays at most a few batches ahead, so a 50 MB file is still never held as tokens at once.
/// </summary>
internal abstract class PreparedMigrations : IDisposable
{
    /// <param name="fromChars">The second thread only when the migrations hold at least this much SQL (see <see cref="LintOptions.SecondThreadFromChars"/>).</param>
    public static PreparedMigrations Start(IReadOnlyList<Migration> migrations, SqlDialect dialect, ServerVersion? mySqlServer, SqlModes modes, bool secondThread, int fromChars) =>
        secondThread && Environment.ProcessorCount > 1 && migrations.Count > 0 && HoldAtLeast(migrations, fromChars)
            ? new OnSecondThread(migrations, dialect, mySqlServer, modes)
            : new OnThisThread(dialect, mySqlServer, modes);

    private static bool HoldAtLeast(IReadOnlyList<Migration> migrations, int chars)
    {
        long total = 0;
        foreach (var migration in migrations)
        {
            total += migration.UpSql.Length;
            if (total >= chars)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The next migration, which must be <paramref name="migration"/>; its statements are read once, in order.</summary>
    public abstract PreparedMigration Next(Migration migration);

    public abstract void Dispose();

    private sealed class OnThisThread(SqlDialect dialect, ServerVersion? mySqlServer, SqlModes modes) : PreparedMigrations
    {
        public override PreparedMigration Next(Migration migration)
        {
            var prepared = new PreparedMigration(migration);
            prepared.Statements = Statements(prepared, dialect, mySqlServer, modes);
            return prepared;
        }

        private static IEnumerable<StatementUnit> Statements(PreparedMigration prepared, SqlDialect dialect, ServerVersion? mySqlServer, SqlModes modes)
        {
            var problems = new SqlSplitProblems();
            foreach (var statement in Linter.PreparedStatements(prepared.Migration, dialect, mySqlServer, modes, problems))
            {
                yield return statement;
            }

            prepared.Problems = problems.Found;
        }

        public override void Dispose()
        {
        }
    }

    private sealed class OnSecondThread : PreparedMigrations
    {
        // Items go in batches, so the two threads meet once per batch rather than once per statement.
        private const int BatchSize = 64;

        private readonly BlockingCollection<List<object>> batches = new(boundedCapacity: 8);
        private readonly CancellationTokenSource stop = new();
        private readonly Thread thread;
        private ExceptionDispatchInfo? failure;
        private List<object>? batch;
        private int next;

        public OnSecondThread(IReadOnlyList<Migration> migrations, SqlDialect dialect, ServerVersion? mySqlServer, SqlModes modes)
        {
            thread = new Thread(() => Produce(migrations, dialect, mySqlServer, modes)) { IsBackground = true, Name = "lint: prepare" };
            thread.Start();
        }

        public override PreparedMigration Next(Migration migration)
        {
            if (Take() is not PreparedMigration prepared || !ReferenceEquals(prepared.Migration, migration))
            {
                throw new InvalidOperationException($"the linter asked for {migration.FileName} out of order");
            }

            prepared.Statements = Statements(prepared);
            return prepared;
        }

        private IEnumerable<StatementUnit> Statements(PreparedMigration prepared)
        {
            object item;
            while ((item = Take()) is StatementUnit statement)
            {
                yield return statement;
            }

            prepared.Problems = ((EndOfMigration)item).Problems;
        }

        /// <summary>Follows a migration's last statement, with what the cutting found wrong in it.</summary>
        private sealed record EndOfMigration(IReadOnlyList<SqlSyntaxProblem> Problems);

        private object Take()
        {
            if (batch is null || next == batch.Count)
            {
                if (!batches.TryTake(out batch, Timeout.Infinite))
                {
                    failure?.Throw();
                    throw new InvalidOperationException("the linter's preparing thread ended before the last migration");
                }

                next = 0;
            }

            return batch[next++];
        }

        private void Produce(IReadOnlyList<Migration> migrations, SqlDialect dialect, ServerVersion? mySqlServer, SqlModes modes)
        {
            try
            {
                var filling = new List<object>(BatchSize);
                void Add(object item)
                {
                    filling.Add(item);
                    if (filling.Count >= BatchSize)
                    {
                        batches.Add(filling, stop.Token);
                        filling = new List<object>(BatchSize);
                    }
                }

                foreach (var migration in migrations)
                {
                    Add(new PreparedMigration(migration));
                    var problems = new SqlSplitProblems();
                    foreach (var statement in Linter.PreparedStatements(migration, dialect, mySqlServer, modes, problems))
                    {
                        Add(statement);
                    }

                    Add(new EndOfMigration(problems.Found));
                }

                if (filling.Count > 0)
                {
                    batches.Add(filling, stop.Token);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The judging thread stopped early (it failed, or was done with what it needed).
            }
#pragma warning disable CA1031 // Handed to the judging thread, which throws it where it would have been thrown without this thread.
            catch (Exception e)
#pragma warning restore CA1031
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                batches.CompleteAdding();
            }
        }

        public override void Dispose()
        {
            stop.Cancel();
            thread.Join();
            batches.Dispose();
            stop.Dispose();
        }
    }
}

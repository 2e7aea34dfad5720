using Gatekeeper.Core.Lint.Syntax;
using Gatekeeper.Core.Migrations;

namespace Gatekeeper.Core.Lint.Analysis;

/// <summary>What the linter carries from one statement of a migration to the next.</summary>
internal sealed class MigrationScope
{
    public MigrationScope(PlanState plan, Migration migration, MigrationOutline outline, TransactionState transaction)
    {
        Plan = plan;
        Migration = migration;
        Outline = outline;
        Transaction = transaction;
    }

    public PlanState Plan { get; }

    public Migration Migration { get; }

    public MigrationOutline Outline { get; }

    public TransactionState Transaction { get; }

    /// <summary>GK504 was reported in this migration (a BEGIN and its COMMIT are one hazard, reported once).</summary>
    public bool NestingReported { get; set; }

    /// <summary>Procedures created earlier in this migration, by name, so a CALL can lint the body it runs.</summary>
    public Dictionary<string, CreateRoutineStatement> Routines { get; } = new(StringComparer.Ordinal);

    /// <summary>Session settings the migration set so far (SET TimeZone …), for rules whose cost depends on them.</summary>
    public SessionSettings Session { get; } = new();

    /// <summary>Index of the migration's last statement that holds code: a failure there leaves nothing for a retry to trip on.</summary>
    public int LastStatementIndex => Outline.LastStatement;

    /// <summary>Index of the statement being judged.</summary>
    public int StatementIndex { get; set; }

    /// <summary>The BEGIN the file opened (with its directives), reported as GK505 if the migration ends before COMMIT.</summary>
    public StatementUnit? OpenedBy { get; set; }
}

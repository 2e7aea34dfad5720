using System.Text;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Schema;

/// <summary>
/// How one engine spells each change, and the few things the engines do differently that the differ must know
/// (MySQL combines a table's changes in one statement and can move columns; PostgreSQL cannot change a column a view
/// reads). Chosen once per plan by <see cref="For"/>; the differ never asks which engine it is.
/// </summary>
internal abstract class SchemaDdl
{
    public static SchemaDdl For(SqlDialect dialect) => dialect switch
    {
        SqlDialect.Postgres => PostgresSchemaDdl.Instance,
        SqlDialect.MySql => MySqlSchemaDdl.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(dialect), dialect, "no schema DDL for this dialect"),
    };

    /// <summary>MySQL can place a column (<c>AFTER x</c>); PostgreSQL only appends.</summary>
    public abstract bool CanPlaceColumns { get; }

    /// <summary>PostgreSQL refuses to change or drop a column a view reads: such views are dropped and created again.</summary>
    public abstract bool ViewsPinColumns { get; }

    /// <summary>MySQL's <c>CREATE OR REPLACE VIEW</c> takes any new definition; PostgreSQL's only one that keeps the columns.</summary>
    public abstract bool ReplacesViewsInPlace { get; }

    /// <summary>Routines and triggers are created after the tables (MySQL never checks a body's references at creation).</summary>
    public abstract bool RoutinesAfterTables { get; }

    /// <summary>PostgreSQL renames constraints (<c>RENAME CONSTRAINT</c>); MySQL cannot (its primary key is always PRIMARY).</summary>
    public virtual bool RenamesConstraints => false;

    /// <summary>PostgreSQL: a transaction cannot use an enum label it added or renamed itself.</summary>
    public virtual bool EnumLabelsNeedCommit => false;

    public abstract string Quote(string identifier);

    public string Name(ObjectName name) => name.Schema is null ? Quote(name.Name) : Quote(name.Schema) + "." + Quote(name.Name);

    /// <summary>A string literal.</summary>
    public abstract string Literal(string text);

    public abstract IEnumerable<string> CreateSchema(NamespaceModel schema);

    public abstract string DropSchema(string name);

    public abstract string? CommentOnSchema(string name, string? comment);

    public abstract string CreateExtension(ExtensionModel extension);

    public abstract string DropExtension(string name);

    public abstract IEnumerable<string> CreateEnum(EnumModel type);

    /// <summary>Adds <paramref name="value"/> before <paramref name="before"/>, or at the end when that is null.</summary>
    public abstract string AddEnumValue(ObjectName type, string value, string? before);

    public abstract string RenameEnumValue(ObjectName type, string from, string to);

    public abstract string DropEnum(ObjectName type);

    public abstract string? CommentOnEnum(ObjectName type, string? comment);

    public abstract IEnumerable<string> CreateSequence(SequenceModel sequence);

    public abstract IEnumerable<string> AlterSequence(SequenceModel from, SequenceModel to);

    public abstract string? SetSequenceOwner(SequenceModel sequence);

    public abstract string DropSequence(ObjectName sequence);

    public abstract string? CommentOnSequence(ObjectName sequence, string? comment);

    /// <summary>The table with its columns, keys, checks and indexes (not its foreign keys), and its comments.</summary>
    public abstract IEnumerable<(string Summary, string Sql)> CreateTable(TableModel table);

    public abstract string RenameTable(ObjectName from, string to);

    public abstract IEnumerable<(string Summary, string Sql)> AlterTable(TableAlteration alteration);

    public abstract string DropTable(ObjectName table);

    public abstract string AddForeignKey(ObjectName table, ConstraintModel key);

    public abstract string DropForeignKey(ObjectName table, ConstraintModel key);

    public abstract string? CommentOnConstraint(ObjectName table, ConstraintModel constraint);

    public abstract IEnumerable<string> CreateView(ViewModel view);

    public abstract string DropView(ViewModel view);

    /// <summary>The statement that sets or clears a view's comment; null where comments are part of the definition.</summary>
    public abstract string? CommentOnView(ViewModel view);

    public abstract string? CommentOnRoutine(RoutineModel routine);

    public abstract string? CommentOnTrigger(TriggerModel trigger);

    public abstract IEnumerable<string> CreateRoutine(RoutineModel routine, bool replacing);

    public abstract string DropRoutine(RoutineModel routine);

    public abstract IEnumerable<string> CreateTrigger(TriggerModel trigger);

    public abstract string DropTrigger(TriggerModel trigger);

    /// <summary>Quotes with <paramref name="quote"/>, doubling it inside.</summary>
    protected static string QuoteWith(string identifier, char quote)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        var text = new StringBuilder(identifier.Length + 2).Append(quote);
        foreach (var c in identifier)
        {
            text.Append(c);
            if (c == quote)
            {
                text.Append(c);
            }
        }

        return text.Append(quote).ToString();
    }
}

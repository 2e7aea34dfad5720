using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint;

/// <summary>How to lint: what the live database says (if anything), what the team allows, which opt-in rules run.</summary>
public sealed record LintOptions
{
    public static LintOptions Default { get; } = new();

    /// <summary>The live schema, or null when linting text alone (findings then say when they might change).</summary>
    public SchemaContext? Schema { get; init; }

    /// <summary>
    /// Rule ids or category names the team accepts for this deployment (the <c>gatekeeper.dev/allow</c> annotation,
    /// see <see cref="LintAllowList.Parse"/>). Allowed findings are reported but never block.
    /// </summary>
    public IReadOnlyList<string> Allow { get; init; } = [];

    /// <summary>Opt-in rules to run (GK603 prefer-text, GK609 enum-value-ordering, GK610 require-schema).</summary>
    public IReadOnlyList<string> Enable { get; init; } = [];

    /// <summary>
    /// Server major version when known (PostgreSQL 11, 16 …; MySQL 5, 8). Decides version-dependent hazards such as
    /// ALTER TYPE … ADD VALUE inside a transaction (refused before PostgreSQL 12) and defaults that rewrite before 11.
    /// </summary>
    public int? ServerMajorVersion
    {
        get => serverMajorVersion ?? Server?.Major;
        init => serverMajorVersion = value;
    }

    private readonly int? serverMajorVersion;

    /// <summary>
    /// The whole server version when known (from <c>--server-version</c> or the connection), MariaDB told apart from
    /// MySQL: it decides how MySQL executable comments read (<c>/*!80013 … */</c> runs on MySQL 8.0.13+, never on MariaDB).
    /// </summary>
    public ServerVersion? Server { get; init; }

    /// <summary>
    /// MySQL/MariaDB: the session's <c>sql_mode</c> as far as it changes how text reads (<c>NO_BACKSLASH_ESCAPES</c>,
    /// <c>ANSI_QUOTES</c>), from the live session or <c>--sql-mode</c>; the stock mode when not known. A
    /// <c>SET sql_mode</c> in a file changes it for the rest of that file.
    /// </summary>
    public SqlModes Modes { get; init; }

    /// <summary>
    /// Cut and parse the statements on a second thread while this one judges them in order (the judging needs what the
    /// statements before did; cutting and parsing do not). The findings and their order are the same either way. For
    /// a process that lints once on a machine with a spare core (<c>gatekeeper lint</c>); a server answering many
    /// requests at once already uses its cores and leaves it off.
    /// </summary>
    public bool PrepareOnSecondThread { get; init; }

    /// <summary>
    /// <see cref="PrepareOnSecondThread"/> starts the thread only when the migrations hold at least this much SQL
    /// (characters, all together): below it the thread costs more than it saves. In bench/LintBench supabase's 30 files
    /// (0.03 MB) took 0.8 ms on one thread and 1.3-1.5 ms with the second, kestra's (0.03 MB) the same either way,
    /// hatchet's (0.11 MB) 7.9 and 6.4 ms. Tests set 0 to run the second thread on any input.
    /// </summary>
    internal int SecondThreadFromChars { get; init; } = 64 * 1024;

    /// <summary>At or above this many rows a size-dependent finding stays an error; below it, a live schema lowers it to a warning.</summary>
    public long LargeTableRows { get; init; } = 100_000;
}

/// <summary>Parses the <c>gatekeeper.dev/allow</c> annotation: a comma or whitespace separated list of rule ids and category names.</summary>
public static class LintAllowList
{
    public static IReadOnlyList<string> Parse(string? annotation) =>
        string.IsNullOrWhiteSpace(annotation)
            ? []
            : annotation.Split([',', ' ', '\t', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

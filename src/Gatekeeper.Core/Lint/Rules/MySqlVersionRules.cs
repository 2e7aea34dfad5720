using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Rules;

/// <summary>How a column change is placed, for the servers whose instant column changes depend on it.</summary>
internal enum ColumnChange
{
    /// <summary>ADD COLUMN without AFTER/FIRST: the new column goes last.</summary>
    AddAtEnd,
    /// <summary>ADD COLUMN … AFTER c / FIRST.</summary>
    AddPositioned,
    Drop,
}

/// <summary>
/// What MySQL and MariaDB do by version, decided by the server's full version (patch level included), with the
/// sentence each finding carries: which version was assumed and at which version the behaviour changes. Every
/// decision takes the server the plan runs on, or null when it is not known; then the file is judged as a current
/// server runs it (MySQL 8.0.29+ or MariaDB 10.4+), as it was before versions were read, and only what differs
/// between the two engines is said. Versions (release notes and the servers' own documentation):
/// MySQL 8.0.12 instant ADD COLUMN as the last column, 8.0.13 expression defaults, 8.0.16 CHECK constraints enforced
/// (parsed and ignored before) and DROP CHECK, 8.0.19 DROP CONSTRAINT, 8.0.29 instant ADD COLUMN anywhere and instant
/// DROP COLUMN; MySQL never had ALGORITHM=NOCOPY. MariaDB 10.2.1 expression defaults and enforced CHECK, 10.3.2
/// instant ADD COLUMN as the last column, 10.3.7 ALGORITHM=INSTANT/NOCOPY, 10.4.0 instant DROP COLUMN, instant ADD
/// COLUMN anywhere and reordering; MariaDB has no DROP CHECK (a CHECK is dropped with DROP CONSTRAINT).
/// </summary>
internal static class MySqlVersionRules
{
    /// <summary>"MySQL 8.0.36" / "MariaDB 10.11.6".</summary>
    public static string Name(ServerVersion server) => $"{(server.IsMariaDb ? "MariaDB" : "MySQL")} {server.Numbers}";

    /// <summary>
    /// Why <paramref name="server"/> rebuilds the table for this column change instead of doing it instantly (a clause
    /// naming the version assumed and the version that changes it), or null when it is instant there or the server is unknown.
    /// </summary>
    public static string? RebuildsFor(ServerVersion? server, ColumnChange change)
    {
        if (server is null)
        {
            return null;
        }

        var name = Name(server);
        if (server.IsMariaDb)
        {
            return change switch
            {
                ColumnChange.AddAtEnd when !server.AtLeast(10, 3, 2) =>
                    $"{name} adds a column by rebuilding the table (instant as the last column from MariaDB 10.3.2, anywhere from 10.4)",
                ColumnChange.AddPositioned when !server.AtLeast(10, 4) =>
                    $"{name} rebuilds the table for a column placed with AFTER/FIRST (instant anywhere from MariaDB 10.4{(server.AtLeast(10, 3, 2) ? "; drop AFTER/FIRST to add it last, instantly" : string.Empty)})",
                ColumnChange.Drop when !server.AtLeast(10, 4) =>
                    $"{name} drops a column by rebuilding the table (instant from MariaDB 10.4)",
                _ => null,
            };
        }

        return change switch
        {
            ColumnChange.AddAtEnd when !server.AtLeast(8, 0, 12) =>
                $"{name} adds a column by rebuilding the table (instant as the last column from MySQL 8.0.12, anywhere from 8.0.29)",
            ColumnChange.AddPositioned when !server.AtLeast(8, 0, 29) =>
                $"{name} rebuilds the table for a column placed with AFTER/FIRST (instant anywhere from MySQL 8.0.29{(server.AtLeast(8, 0, 12) ? "; drop AFTER/FIRST to add it last, instantly" : string.Empty)})",
            ColumnChange.Drop when !server.AtLeast(8, 0, 29) =>
                $"{name} drops a column by rebuilding the table (instant from MySQL 8.0.29)",
            _ => null,
        };
    }

    /// <summary>
    /// MySQL (not MariaDB) takes an explicit ALGORITHM=INPLACE literally and rebuilds the table for a column change it
    /// would otherwise do instantly; the clause saying so, or null.
    /// </summary>
    public static string? InplaceRebuildsFor(ServerVersion? server, ColumnChange change)
    {
        if (server is null or { IsMariaDb: true })
        {
            return null;
        }

        var instantFrom = change == ColumnChange.AddAtEnd ? "8.0.12" : "8.0.29";
        return server.AtLeast(8, 0, change == ColumnChange.AddAtEnd ? 12 : 29)
            ? $"ALGORITHM=INPLACE makes {Name(server)} rebuild the table, where without it (or with ALGORITHM=INSTANT) the change is instant (from MySQL {instantFrom})"
            : null;
    }

    /// <summary>Whether CHECK constraints are enforced; an unknown server is taken to enforce them.</summary>
    public static bool EnforcesCheck(ServerVersion? server) =>
        server is null || (server.IsMariaDb ? server.AtLeast(10, 2, 1) : server.AtLeast(8, 0, 16));

    /// <summary>The clause for a CHECK the server parses and ignores (null when it enforces it).</summary>
    public static string? CheckIgnored(ServerVersion? server) =>
        EnforcesCheck(server) ? null
            : $"{Name(server!)} parses CHECK and ignores it, so no row is checked, now or later ({(server!.IsMariaDb ? "MariaDB enforces CHECK from 10.2.1" : "MySQL enforces CHECK from 8.0.16")})";

    /// <summary>The clause for an expression default the server refuses (only literals and CURRENT_TIMESTAMP before), or null.</summary>
    public static string? RefusesExpressionDefault(ServerVersion? server)
    {
        if (server is null)
        {
            return null;
        }

        return server.IsMariaDb
            ? server.AtLeast(10, 2, 1) ? null : $"{Name(server)} refuses it (MariaDB accepts expression defaults from 10.2.1; before, only literals and CURRENT_TIMESTAMP)"
            : server.AtLeast(8, 0, 13) ? null : $"{Name(server)} refuses it (MySQL accepts expression defaults from 8.0.13; before, only literals and CURRENT_TIMESTAMP)";
    }

    /// <summary>
    /// What is wrong with <c>ALTER TABLE … DROP CHECK name</c> on <paramref name="server"/>, and whether that is certain
    /// (the server is known); null when the server accepts it.
    /// </summary>
    public static (string Text, bool Certain)? RefusesDropCheck(ServerVersion? server, string? name)
    {
        var instead = $"DROP CONSTRAINT {name ?? "name"}";
        return server switch
        {
            null => ($"MariaDB has no DROP CHECK and refuses this ALTER (it drops a CHECK with {instead}); MySQL accepts DROP CHECK from 8.0.16. No server version is known, so this fails only on MariaDB", false),
            { IsMariaDb: true } => ($"{Name(server)} has no DROP CHECK and refuses this ALTER: write {instead} (DROP CHECK is MySQL's, from 8.0.16)", true),
            _ when !server.AtLeast(8, 0, 16) => ($"{Name(server)} has no DROP CHECK and refuses this ALTER (MySQL accepts DROP CHECK from 8.0.16, when it starts enforcing CHECK)", true),
            _ => null,
        };
    }

    /// <summary>The clause for <c>ALTER TABLE … DROP CONSTRAINT name</c> on a MySQL before 8.0.19, or null.</summary>
    public static string? RefusesDropConstraint(ServerVersion? server) =>
        server is null or { IsMariaDb: true } || server.AtLeast(8, 0, 19) ? null
            : $"{Name(server)} refuses DROP CONSTRAINT (MySQL accepts it from 8.0.19; before, drop a CHECK with DROP CHECK from 8.0.16, a foreign key with DROP FOREIGN KEY, a unique key with DROP INDEX)";

    /// <summary>What is wrong with <c>ALGORITHM=INSTANT/NOCOPY</c> on <paramref name="server"/>, and whether that is certain; null when it is accepted.</summary>
    public static (string Text, bool Certain)? RefusesAlgorithm(ServerVersion? server, string algorithm)
    {
        if (algorithm is not ("INSTANT" or "NOCOPY"))
        {
            return null;
        }

        if (server is null)
        {
            return algorithm == "NOCOPY"
                ? ("MySQL has no ALGORITHM=NOCOPY and refuses this ALTER (it is MariaDB's, from 10.3.7); no server version is known, so this fails only on MySQL", false)
                : null;
        }

        if (server.IsMariaDb)
        {
            return server.AtLeast(10, 3, 7) ? null : ($"{Name(server)} refuses ALGORITHM={algorithm} (MariaDB accepts it from 10.3.7)", true);
        }

        return algorithm == "NOCOPY"
            ? ($"{Name(server)} refuses ALGORITHM=NOCOPY, which only MariaDB has (from 10.3.7): use ALGORITHM=INPLACE", true)
            : server.AtLeast(8, 0, 12) ? null : ($"{Name(server)} refuses ALGORITHM=INSTANT (MySQL accepts it from 8.0.12)", true);
    }
}

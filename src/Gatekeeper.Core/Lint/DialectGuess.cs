using System.Text.RegularExpressions;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint;

/// <summary>A dialect guessed from migration text, with the words that decided it (for the line that says it was guessed).</summary>
/// <param name="Dialect">The guess; null when nothing in the text points either way.</param>
/// <param name="Evidence">What was seen, e.g. "backtick-quoted names in V1__init.sql, ENGINE= in V2__orders.sql".</param>
public sealed record DialectGuess(SqlDialect? Dialect, string Evidence)
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(2);

    /// <summary>Markers only one dialect writes. Counted per file, so one odd file cannot outvote a directory.</summary>
    private static readonly (SqlDialect Dialect, string Name, Regex Pattern)[] Markers =
    [
        (SqlDialect.MySql, "backtick-quoted names", new Regex(@"`[A-Za-z0-9_$]+`", RegexOptions.CultureInvariant, Budget)),
        (SqlDialect.MySql, "ENGINE=", new Regex(@"\)\s*ENGINE\s*=", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, Budget)),
        (SqlDialect.MySql, "AUTO_INCREMENT", new Regex(@"\bAUTO_INCREMENT\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, Budget)),
        (SqlDialect.MySql, "DELIMITER", new Regex(@"^\s*DELIMITER\s+\S", RegexOptions.IgnoreCase | RegexOptions.Multiline | RegexOptions.CultureInvariant, Budget)),
        (SqlDialect.MySql, "MODIFY COLUMN", new Regex(@"\bMODIFY\s+(COLUMN\s+)?[`\w]+\s+\w", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, Budget)),
        (SqlDialect.MySql, "(DEFAULT )CHARSET=", new Regex(@"\b(DEFAULT\s+)?CHARSET\s*=", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, Budget)),
        (SqlDialect.Postgres, "SERIAL types", new Regex(@"\b(BIG|SMALL)?SERIAL\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, Budget)),
        (SqlDialect.Postgres, ":: casts", new Regex(@"[\w)']::[a-z_]", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, Budget)),
        (SqlDialect.Postgres, "$$ bodies", new Regex(@"\$([A-Za-z_]\w*)?\$", RegexOptions.CultureInvariant, Budget)),
        (SqlDialect.Postgres, "CREATE EXTENSION", new Regex(@"\bCREATE\s+EXTENSION\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, Budget)),
        (SqlDialect.Postgres, "timestamptz/jsonb", new Regex(@"\b(TIMESTAMPTZ|JSONB|TIMESTAMP\s+WITH\s+TIME\s+ZONE)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, Budget)),
        (SqlDialect.Postgres, "CONCURRENTLY", new Regex(@"\bINDEX\s+CONCURRENTLY\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, Budget)),
        (SqlDialect.Postgres, "double-quoted names", new Regex(@"(CREATE|ALTER)\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?(""\w+""\.)?""\w+""", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, Budget)),
    ];

    /// <summary>The dialect most files point to; a tie or no marker at all gives no guess.</summary>
    public static DialectGuess FromMigrations(IReadOnlyList<Migration> migrations)
    {
        ArgumentNullException.ThrowIfNull(migrations);
        var files = new Dictionary<SqlDialect, int> { [SqlDialect.Postgres] = 0, [SqlDialect.MySql] = 0 };
        var seen = new Dictionary<SqlDialect, List<string>> { [SqlDialect.Postgres] = [], [SqlDialect.MySql] = [] };
        foreach (var migration in migrations)
        {
            var hits = new Dictionary<SqlDialect, string?> { [SqlDialect.Postgres] = null, [SqlDialect.MySql] = null };
            foreach (var (dialect, name, pattern) in Markers)
            {
                if (hits[dialect] is null && Matches(pattern, migration.UpSql))
                {
                    hits[dialect] = name;
                }
            }

            foreach (var (dialect, name) in hits)
            {
                if (name is not null)
                {
                    files[dialect]++;
                    if (seen[dialect].Count < 3)
                    {
                        seen[dialect].Add($"{name} in {migration.FileName}");
                    }
                }
            }
        }

        var mysql = files[SqlDialect.MySql];
        var postgres = files[SqlDialect.Postgres];
        if (mysql == postgres)
        {
            return new DialectGuess(null, mysql == 0 ? "nothing in the files is particular to one dialect" : $"as many files look like MySQL ({mysql}) as like PostgreSQL");
        }

        var winner = mysql > postgres ? SqlDialect.MySql : SqlDialect.Postgres;
        var (count, other) = winner == SqlDialect.MySql ? (mysql, postgres) : (postgres, mysql);
        var evidence = $"{string.Join(", ", seen[winner])}{(count > seen[winner].Count ? $" and {count - seen[winner].Count} more file{(count - seen[winner].Count == 1 ? string.Empty : "s")}" : string.Empty)}" +
                       (other > 0 ? $"; {other} file{(other == 1 ? string.Empty : "s")} look{(other == 1 ? "s" : string.Empty)} like the other dialect" : string.Empty);
        return new DialectGuess(winner, evidence);
    }

    private static bool Matches(Regex pattern, string text)
    {
        try
        {
            return pattern.IsMatch(text);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}

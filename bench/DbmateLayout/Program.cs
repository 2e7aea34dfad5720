using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;

// Writes a migration directory in dbmate's layout (OUT/<00001>_<name>.sql with "-- migrate:up" and an empty
// "-- migrate:down", which dbmate requires), read by Gatekeeper's own reader so the order, the up text and the transaction choice are the ones `gatekeeper migrate` uses:
// - the statement text is the file's up section, unchanged;
// - versions are the position in Gatekeeper's order, zero-padded, so dbmate's order is the same;
// - a PostgreSQL file that opts out of a transaction and has more than one statement becomes one
//   dbmate file per statement: PostgreSQL runs a multi-statement query, which is how dbmate sends a file, as one
//   implicit transaction, where CREATE INDEX CONCURRENTLY fails (so dbmate records more history rows there);
// - "transaction:false" wherever Gatekeeper does not wrap the file in its own transaction: every MySQL file (DDL
//   commits implicitly; Gatekeeper runs MySQL statement by statement), PostgreSQL files that opt out, and files with
//   their own BEGIN/COMMIT (which then give dbmate the same atomicity they give Gatekeeper);
// - a file with mysql-client DELIMITER directives (a client command no server accepts) gets Gatekeeper's split
//   statements joined by ";\n", which the server parses as one multi-statement query, as dbmate sends files.
// Usage: DbmateLayout --dir SRC --out OUT --dialect postgres|mysql
var arguments = args.Chunk(2).ToDictionary(p => p[0].TrimStart('-'), p => p[1], StringComparer.Ordinal);
var dialect = arguments["dialect"] == "mysql" ? SqlDialect.MySql : SqlDialect.Postgres;
var read = await MigrationDirectoryReader.ReadAsync(new DirectoryMigrationSource(arguments["dir"]), null, CancellationToken.None);
if (!read.Succeeded)
{
    Console.Error.WriteLine(string.Join("; ", read.Problems));
    return 2;
}

var output = Directory.CreateDirectory(arguments["out"]);
foreach (var stale in output.EnumerateFiles("*.sql"))
{
    stale.Delete();
}

var delimiter = new Regex(@"^\s*delimiter\s", RegexOptions.IgnoreCase | RegexOptions.Multiline);
var controls = new HashSet<string>(["BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT"], StringComparer.OrdinalIgnoreCase);
int index = 0, inTransaction = 0, rewritten = 0, written = 0, splitFiles = 0, statements = 0;
foreach (var migration in read.Directory!.Migrations)
{
    index++;
    var split = SqlSplitter.Split(migration.UpSql, dialect, migration.FileName, migration.UpStartLine);
    var ownControl = split.Statements.Any(s => s.Tokens.FirstOrDefault(t => t.Kind is not (SqlTokenKind.LineComment or SqlTokenKind.BlockComment)) is { Kind: SqlTokenKind.Word } first
        && controls.Contains(s.TextOf(first).ToString()));
    var transaction = dialect == SqlDialect.Postgres && migration.Transactional && !ownControl;
    statements += split.Statements.Count;
    var body = migration.UpSql;
    if (dialect == SqlDialect.MySql && delimiter.IsMatch(body))
    {
        body = string.Join(";\n", split.Statements.Select(s => s.Text)) + ";\n";
        rewritten++;
    }

    inTransaction += transaction ? 1 : 0;
    var name = Regex.Replace(Path.GetFileNameWithoutExtension(migration.FileName), @"[^A-Za-z0-9_]+", "_");
    // PostgreSQL runs a multi-statement query as one implicit transaction, where CREATE INDEX CONCURRENTLY fails; so a
    // PostgreSQL file Gatekeeper runs statement by statement becomes one dbmate file per statement.
    var parts = dialect == SqlDialect.Postgres && !migration.Transactional && split.Statements.Count > 1
        ? split.Statements.Select(s => s.Text + ";\n").ToList()
        : [body];
    splitFiles += parts.Count > 1 ? 1 : 0;
    foreach (var (part, k) in parts.Select((p, k) => (p, k)))
    {
        written++;
        var header = transaction ? "-- migrate:up\n" : "-- migrate:up transaction:false\n";
        var suffix = parts.Count > 1 ? $"_part{k + 1}" : string.Empty;
        await File.WriteAllTextAsync(Path.Combine(output.FullName, $"{written.ToString("D5", CultureInfo.InvariantCulture)}_{name}{suffix}.sql"),
            header + part + "\n-- migrate:down\n", new UTF8Encoding(false));
    }
}

Console.WriteLine($"{index} migrations ({statements} statements) as {written} dbmate files: {inTransaction} in a transaction, {splitFiles} split into one file per statement, {rewritten} rewritten from DELIMITER blocks");
return 0;

using Gatekeeper.Core.Sql;

// Usage: dotnet run -c Release                    → throughput on ~10 MB generated PostgreSQL and MySQL text
//        dotnet run -c Release -- show FILE DIALECT → prints each statement's location and first line
if (args is ["show", var path, var dialectName])
{
    var dialect = Enum.Parse<SqlDialect>(dialectName, ignoreCase: true);
    var result = SqlSplitter.Split(File.ReadAllText(path), dialect, Path.GetFileName(path));
    foreach (var statement in result.Statements)
    {
        var text = statement.Text;
        var newline = text.IndexOf('\n');
        Console.WriteLine($"{statement.Location.Line}:{statement.Location.Column} [{statement.Tokens.Count} tokens, {text.Length} chars] {(newline < 0 ? text : text[..newline])}");
    }

    foreach (var problem in result.Problems)
    {
        Console.WriteLine($"PROBLEM {problem}");
    }

    Console.WriteLine($"{result.Statements.Count} statements");
    return;
}

Measure(SqlDialect.Postgres, GeneratePostgres(10_000_000));
Measure(SqlDialect.MySql, GenerateMySql(10_000_000));

static void Measure(SqlDialect dialect, string text)
{
    var megabytes = System.Text.Encoding.UTF8.GetByteCount(text) / 1_000_000.0;
    var split = new Best();
    var lex = new Best();
    var statements = 0;
    var tokens = 0;
    long allocated = 0;

    // Split and lex alternate so both see the same machine load; best of 7 each. Process CPU time (GC threads
    // included) is reported beside wall time because it moves far less when other jobs share the cores.
    for (var run = 0; run < 7; run++)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = split.Time(() => SqlSplitter.Split(text, dialect, "generated.sql"));
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        statements = result.Statements.Count;

        tokens = lex.Time(() =>
        {
            var reader = new SqlTokenReader(text, dialect);
            var count = 0;
            while (reader.Read(out _))
            {
                count++;
            }

            return count;
        });
    }

    Console.WriteLine($"{dialect}: {megabytes:F1} MB, {statements} statements, {tokens} tokens");
    Console.WriteLine($"  split: wall {split.Wall * 1000,4:F0} ms = {megabytes / split.Wall,4:F0} MB/s, cpu {split.Cpu * 1000,4:F0} ms = {megabytes / split.Cpu,4:F0} MB/s, allocates {allocated / 1e6:F0} MB");
    Console.WriteLine($"  lex:   wall {lex.Wall * 1000,4:F0} ms = {megabytes / lex.Wall,4:F0} MB/s, cpu {lex.Cpu * 1000,4:F0} ms = {megabytes / lex.Cpu,4:F0} MB/s");
}

static string GeneratePostgres(int size)
{
    var builder = new System.Text.StringBuilder(size + 4096);
    var n = 0;
    while (builder.Length < size)
    {
        n++;
        builder.Append("-- migration step ").Append(n).Append('\n');
        builder.Append("CREATE TABLE \"orders_").Append(n).Append("\" (id bigint PRIMARY KEY, note text DEFAULT 'it''s new', total numeric(12,2) NOT NULL DEFAULT 0.0);\n");
        builder.Append("INSERT INTO orders_").Append(n).Append(" (id, note, total) VALUES (1, E'line\\n', 12.5), (2, 'b', 3e2);\n");
        builder.Append("CREATE OR REPLACE FUNCTION touch_").Append(n).Append("() RETURNS trigger LANGUAGE plpgsql AS $fn$\nBEGIN\n  NEW.updated_at := now(); -- stamp\n  RETURN NEW;\nEND;\n$fn$;\n");
        builder.Append("/* a block /* nested */ comment */ CREATE INDEX CONCURRENTLY idx_").Append(n).Append(" ON orders_").Append(n).Append(" (total) WHERE note <> '';\n\n");
    }

    return builder.ToString();
}

static string GenerateMySql(int size)
{
    var builder = new System.Text.StringBuilder(size + 4096);
    var n = 0;
    while (builder.Length < size)
    {
        n++;
        builder.Append("# migration step ").Append(n).Append('\n');
        builder.Append("CREATE TABLE `orders_").Append(n).Append("` (`id` BIGINT NOT NULL AUTO_INCREMENT, `note` VARCHAR(100) DEFAULT 'it\\'s new', PRIMARY KEY (`id`)) ENGINE=InnoDB;\n");
        builder.Append("INSERT INTO `orders_").Append(n).Append("` (`id`, `note`) VALUES (1, \"a \\\"b\\\"\"), (2, 'c');\n");
        builder.Append("/*!40101 SET @saved_cs_client = @@character_set_client */;\n");
        builder.Append("DELIMITER //\nCREATE PROCEDURE p_").Append(n).Append("()\nBEGIN\n  DECLARE v INT DEFAULT 0;\n  SET v = v + 1; -- count\nEND //\nDELIMITER ;\n\n");
    }

    return builder.ToString();
}

sealed class Best
{
    public double Wall { get; private set; } = double.MaxValue;

    public double Cpu { get; private set; } = double.MaxValue;

    public T Time<T>(Func<T> work)
    {
        var process = System.Diagnostics.Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var result = work();
        watch.Stop();
        process.Refresh();
        Wall = Math.Min(Wall, watch.Elapsed.TotalSeconds);
        Cpu = Math.Min(Cpu, (process.TotalProcessorTime - cpu).TotalSeconds);
        return result;
    }
}

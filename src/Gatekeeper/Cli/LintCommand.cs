using System.CommandLine;
using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Lint.Formatting;
using Gatekeeper.Core.Migrations;
using Gatekeeper.Core.Sql;
using Gatekeeper.Databases;

namespace Gatekeeper.Cli;

/// <summary><c>gatekeeper lint</c>: judge migration files for unsafe changes, from their text alone.</summary>
internal static class LintCommand
{
    public static Command Create()
    {
        var directory = CommonOptions.Directory();
        var format = CommonOptions.Format();
        var output = CommonOptions.Output(withGithub: true);
        var dialect = new Option<string>("--dialect")
        {
            Description = "SQL dialect of the files; auto takes it from --url, else guesses it from the files (backticks, ENGINE=, AUTO_INCREMENT, SERIAL, :: casts …) and says so.",
            DefaultValueFactory = _ => Auto,
            HelpName = "DIALECT",
        }.AcceptOnlyFromAmong([Auto, .. SqlEngine.All.Select(e => e.Name)]);
        var serverVersion = new Option<string?>("--server-version")
        {
            Description = "Version of the server the files will run on, as SELECT VERSION() prints it (16, 16.4, 8.0.36, 10.11.6-MariaDB); decides version-dependent rules. " +
                          "MySQL and MariaDB need the patch level: MySQL 8.0.12 and 8.0.29 make ADD/DROP COLUMN instant, 8.0.13 allows expression defaults, 8.0.16 enforces CHECK; " +
                          "MariaDB 10.3.2 and 10.4 make ADD/DROP COLUMN instant and never accepts DROP CHECK. With --url the server's own version is used; " +
                          "without either the files are judged as a current server runs them, and findings say which version they assumed.",
            HelpName = "VERSION",
        };
        var sqlMode = new Option<string?>("--sql-mode")
        {
            Description = "MySQL/MariaDB: the sql_mode the files will run in, as SELECT @@SESSION.sql_mode prints it (e.g. NO_BACKSLASH_ESCAPES, ANSI_QUOTES, ANSI). " +
                          "It decides how the files read: with NO_BACKSLASH_ESCAPES a backslash in a string is an ordinary character ('C:\\' is closed), with ANSI_QUOTES " +
                          "\"...\" is a name, not a string. Default: the server's stock mode, or with --url the session's own. A SET sql_mode = '...' in a file changes " +
                          "the reading of the rest of that file, as on the server. Implies --dialect mysql.",
            HelpName = "MODE",
        };
        var allow = new Option<string?>("--allow")
        {
            Description = "Rule ids or categories to accept, comma separated (as the gatekeeper.dev/allow annotation), e.g. GK101,locking.",
            HelpName = "RULES",
        };
        var url = new Option<string?>("--url", "-u")
        {
            Description = "Also read the live schema from this database (table sizes decide whether a locking change is an error or a warning); " +
                          "the dialect then follows the URL.",
            HelpName = "URL",
        };
        var urlFile = CommonOptions.UrlFile();
        var ignore = CommonOptions.Ignore();
        var since = new Option<string?>("--since")
        {
            Description = "Judge only the files added or changed since this git reference (e.g. origin/main, compared from where the branch left it); " +
                          "the other files are history, replayed for what they create.",
            HelpName = "GITREF",
        };
        var maxPerRule = new Option<int>("--max-per-rule")
        {
            Description = "Show at most this many findings of one rule, then count the rest by rule (text, json and github alike; 0 shows all). Findings are written as each file is judged.",
            DefaultValueFactory = _ => LintReportFormatter.DefaultMaxPerRule,
            HelpName = "N",
        };
        maxPerRule.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 0)
            {
                result.AddError("--max-per-rule must be 0 (show all) or more.");
            }
        });
        var files = new Argument<FileInfo[]>("FILES")
        {
            Description = "Judge only these migration files of --dir (as squawk takes files); the others are history, replayed for what they create.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        files.Validators.Add(result =>
        {
            // A mistyped option would otherwise be taken for a file name.
            if (result.Tokens.FirstOrDefault(t => t.Value.StartsWith('-')) is { } unknown)
            {
                result.AddError($"Unrecognized command or argument '{unknown.Value}'.");
            }
        });
        var command = new Command("lint", """
            Lint migration files for changes that are unsafe during a rolling update: destructive changes, backward-incompatible
            changes the running app version would break on, heavy locks and table rewrites, data-dependent failures and
            transaction hazards. Each file is judged as its own rollout against the state after the files before it, so a
            table an earlier file created is an existing, possibly large table (as a pull request adds files to a directory
            already applied); --since GITREF or FILES judge only the new files. With --url the live schema's table sizes also
            count. 'gatekeeper plan' judges what a database has pending as one rollout. Exit 0 when nothing blocks, 1 when an
            error finding is not allowed, 2 on bad input.
            Allow one statement inline with a comment on the line before it: -- gatekeeper:allow GK101 <reason>
            """)
        {
            directory, format, dialect, serverVersion, sqlMode, allow, url, urlFile, ignore, since, maxPerRule, files, output,
        };

        CommandRunner.SetAction(command, async (parse, stdout, cancellationToken) =>
        {
            var source = await SourceLoading.LoadAsync(parse.GetRequiredValue(directory), parse.GetRequiredValue(format), CommonOptions.IgnorePatterns(parse.GetValue(ignore)), cancellationToken);
            var judged = await JudgedFilesAsync(parse.GetRequiredValue(directory), source, parse.GetValue(files) ?? [], parse.GetValue(since), cancellationToken);
            var chosen = parse.GetRequiredValue(dialect);
            SqlDialect? sqlDialect = chosen == Auto ? null : SqlEngine.All.Single(e => e.Name == chosen).Dialect;
            var givenMode = parse.GetValue(sqlMode);
            if (givenMode is not null)
            {
                if (sqlDialect == SqlDialect.Postgres)
                {
                    throw new CommandLineError("--sql-mode is MySQL's and MariaDB's; it cannot go with --dialect postgres.");
                }

                if (SqlModeText.UnknownName(givenMode) is { } unknown)
                {
                    throw new CommandLineError($"--sql-mode: '{unknown}' is not a MySQL or MariaDB sql_mode; give the modes as SELECT @@SESSION.sql_mode prints them, comma separated (e.g. NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES).");
                }

                sqlDialect = SqlDialect.MySql;
            }

            var options = LintOptions.Default with
            {
                Allow = LintAllowList.Parse(parse.GetValue(allow)),
                Server = ServerVersionOption(parse.GetValue(serverVersion)),
                Modes = givenMode is null ? SqlModes.None : SqlModeText.Parse(givenMode),
                // One lint per process: the spare core cuts and parses the files ahead of the judging (same findings).
                PrepareOnSecondThread = true,
            };
            if (parse.GetValue(url) is not null || parse.GetValue(urlFile) is not null)
            {
                // Only an explicit flag switches to the live schema: GATEKEEPER_DATABASE_URL alone must not change what lint judges.
                var target = DatabaseTargets.Resolve(parse.GetValue(url), parse.GetValue(urlFile), historyTable: null, source);
                if (givenMode is not null && target.Url.Dialect != SqlDialect.MySql)
                {
                    throw new CommandLineError($"--sql-mode is MySQL's and MariaDB's; the --url database is {SqlEngine.For(target.Url.Dialect).Name}.");
                }

                if (sqlDialect is { } given && given != target.Url.Dialect)
                {
                    throw new CommandLineError($"--dialect {chosen} does not match the --url database, which is {SqlEngine.For(target.Url.Dialect).Name}.");
                }

                await using var db = target.Open();
                var live = await db.ReadSchemaAsync(cancellationToken);
                sqlDialect = target.Url.Dialect;
                options = options with { Schema = live.Schema, Server = options.Server ?? live.Server, Modes = givenMode is null ? live.Modes : options.Modes };
                if (options.Server is null && live.VersionProblem is { } unreadable)
                {
                    await parse.InvocationConfiguration.Error.WriteLineAsync($"gatekeeper lint: {unreadable}; pass --server-version to give it.");
                }
            }

            if (sqlDialect is null)
            {
                // Never lint MySQL text as PostgreSQL without a word: say what was guessed and from what.
                var guess = DialectGuess.FromMigrations(source.Migrations);
                sqlDialect = guess.Dialect ?? SqlDialect.Postgres;
                var name = SqlEngine.For(sqlDialect.Value).Name;
                await parse.InvocationConfiguration.Error.WriteLineAsync(guess.Dialect is null
                    ? $"gatekeeper lint: linting as {name}, the default ({guess.Evidence}); pass --dialect to choose."
                    : $"gatekeeper lint: linting as {name}, guessed from the files ({guess.Evidence}); pass --dialect to choose.");
            }

            if (sqlDialect == SqlDialect.MySql && options.Server is { PatchKnown: false } partial)
            {
                throw new CommandLineError(
                    $"--server-version '{parse.GetValue(serverVersion)}' has no patch level, which MySQL and MariaDB rules turn on (MySQL 8.0.12, 8.0.13, 8.0.16, 8.0.29; MariaDB 10.3.2); " +
                    $"give it whole, as SELECT VERSION() prints it, e.g. {(partial.Major >= 10 || partial.IsMariaDb ? "10.11.6-MariaDB" : "8.0.36")}.");
            }

            // Streamed: each file's findings are written once it is judged, and past the cap a rule's findings are only counted.
            var limit = parse.GetRequiredValue(maxPerRule);
            var color = ShouldColor(stdout);
            using var buffered = new FlushedTextWriter(stdout);
            var writer = ReportWriter(buffered, parse.GetRequiredValue(output), parse.GetRequiredValue(directory).ToString(), limit, color);
            writer.Begin(sqlDialect.Value, options.Schema is not null);
            var report = Linter.LintEachAsRollout(source.Migrations, m => judged is null || judged.Contains(m.FileName), sqlDialect.Value, options, new LintCollector(limit, writer.Write));
            writer.End(report);
            await buffered.FlushAsync(cancellationToken);
            return report.IsBlocking ? ExitCodes.Rejected : ExitCodes.Ok;
        });
        return command;
    }

    private const string Auto = "auto";

    /// <summary>"16", "16.4", "8.0.36", "10.11.6-MariaDB" or "mariadb-10.11"; a usage error for anything else.</summary>
    private static ServerVersion? ServerVersionOption(string? version)
    {
        if (version is null)
        {
            return null;
        }

        return ServerVersion.Parse(version) is { Major: > 0 and < 1000 } parsed
            ? parsed
            : throw new CommandLineError($"--server-version '{version}' is not a server version; give one such as 16, 16.4, 8.0.36 or 10.11.6-MariaDB.");
    }

    /// <summary>The file names to judge; null to judge every file.</summary>
    private static async Task<IReadOnlySet<string>?> JudgedFilesAsync(
        DirectoryInfo directory, MigrationDirectory source, FileInfo[] files, string? since, CancellationToken cancellationToken)
    {
        if (files.Length > 0 && since is not null)
        {
            throw new CommandLineError("give either --since GITREF or FILES, not both.");
        }

        var names = source.Migrations.Select(m => m.FileName).ToHashSet(StringComparer.Ordinal);
        if (since is not null)
        {
            var changed = await GitChanges.ChangedSinceAsync(directory, since, cancellationToken);
            return changed.Where(names.Contains).ToHashSet(StringComparer.Ordinal);
        }

        if (files.Length == 0)
        {
            return null;
        }

        var root = Path.TrimEndingDirectorySeparator(directory.FullName);
        var judged = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            if (!string.Equals(Path.GetDirectoryName(file.FullName), root, StringComparison.Ordinal))
            {
                throw new CommandLineError($"{file} is not in --dir {directory}; give files of the migration directory.");
            }

            if (!file.Exists)
            {
                throw new CommandLineError($"{file} does not exist.");
            }

            if (!names.Contains(file.Name))
            {
                var why = source.Ignored.Contains(file.Name, StringComparer.Ordinal)
                    ? "it is left out by --ignore"
                    : $"it is not an up migration of this {MigrationFormats.Get(source.Format).DisplayName} directory";
                throw new CommandLineError($"{file} cannot be linted: {why}.");
            }

            judged.Add(file.Name);
        }

        return judged;
    }

    private static LintReportWriter ReportWriter(TextWriter stdout, OutputFormat output, string directory, int maxPerRule, bool color) => output switch
    {
        OutputFormat.Text => new HumanLintWriter(stdout, color, maxPerRule),
        OutputFormat.Json => new JsonLintWriter(stdout, indented: true, maxPerRule),
        OutputFormat.Github => new GitHubLintWriter(stdout, directory, maxPerRule),
        _ => throw new ArgumentOutOfRangeException(nameof(output), output, "no lint output of this kind"),
    };

    public static async Task WriteReportAsync(TextWriter stdout, LintReport report, OutputFormat output, string directory, int maxPerRule = LintReportFormatter.DefaultMaxPerRule)
    {
        var text = output switch
        {
            OutputFormat.Json => LintReportFormatter.FormatJson(report),
            OutputFormat.Github => LintReportFormatter.FormatGitHub(report, directory),
            _ => LintReportFormatter.FormatHuman(report, color: ShouldColor(stdout), maxPerRule),
        };
        await stdout.WriteAsync(text);
        if (!text.EndsWith('\n'))
        {
            await stdout.WriteLineAsync();
        }
    }

    private static bool ShouldColor(TextWriter stdout) =>
        ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null;
}

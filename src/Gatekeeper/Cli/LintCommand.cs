using System.CommandLine;
using Gatekeeper.Core.Lint;
using Gatekeeper.Core.Lint.Formatting;
using Gatekeeper.Core.Migrations;
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
            Description = "SQL dialect of the files.",
            DefaultValueFactory = _ => SqlEngine.Postgres.Name,
            HelpName = "DIALECT",
        }.AcceptOnlyFromAmong([.. SqlEngine.All.Select(e => e.Name)]);
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
        var command = new Command("lint", """
            Lint migration files for changes that are unsafe during a rolling update: destructive changes, backward-incompatible
            changes the running app version would break on, heavy locks and table rewrites, data-dependent failures and
            transaction hazards. Judges every migration in the directory from its text, and with --url also from the live
            schema's table sizes; 'gatekeeper plan' lints only what a database has pending. Exit 0 when nothing blocks, 1 when an error finding is not allowed, 2 on bad input.
            Allow one statement inline with a comment on the line before it: -- gatekeeper:allow GK101 <reason>
            """)
        {
            directory, format, dialect, allow, url, urlFile, ignore, output,
        };

        CommandRunner.SetAction(command, async (parse, stdout, cancellationToken) =>
        {
            var source = await SourceLoading.LoadAsync(parse.GetRequiredValue(directory), parse.GetRequiredValue(format), CommonOptions.IgnorePatterns(parse.GetValue(ignore)), cancellationToken);
            var sqlDialect = SqlEngine.All.Single(e => e.Name == parse.GetRequiredValue(dialect)).Dialect;
            var options = LintOptions.Default with { Allow = LintAllowList.Parse(parse.GetValue(allow)) };
            if (parse.GetValue(url) is not null || parse.GetValue(urlFile) is not null)
            {
                // Only an explicit flag switches to the live schema: GATEKEEPER_DATABASE_URL alone must not change what lint judges.
                var target = DatabaseTargets.Resolve(parse.GetValue(url), parse.GetValue(urlFile), historyTable: null, source);
                await using var db = target.Open();
                var live = await db.ReadSchemaAsync(cancellationToken);
                sqlDialect = target.Url.Dialect;
                options = options with { Schema = live.Schema, ServerMajorVersion = live.ServerMajorVersion };
            }

            var report = Linter.Lint(source.Migrations, sqlDialect, options);
            await WriteReportAsync(stdout, report, parse.GetRequiredValue(output), parse.GetRequiredValue(directory).ToString());
            return report.IsBlocking ? ExitCodes.Rejected : ExitCodes.Ok;
        });
        return command;
    }

    public static async Task WriteReportAsync(TextWriter stdout, LintReport report, OutputFormat output, string directory)
    {
        var text = output switch
        {
            OutputFormat.Json => LintReportFormatter.FormatJson(report),
            OutputFormat.Github => LintReportFormatter.FormatGitHub(report, directory),
            _ => LintReportFormatter.FormatHuman(report, color: ShouldColor(stdout)),
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

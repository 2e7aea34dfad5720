using System.CommandLine;
using Gatekeeper.Core.Migrations;

namespace Gatekeeper.Cli;

/// <summary>How results are printed: for people, or as JSON for scripts and CI.</summary>
public enum OutputFormat
{
    Text,
    Json,
    /// <summary>GitHub Actions workflow commands (<c>::error file=…</c>), for <c>lint</c>.</summary>
    Github,
}

/// <summary>The options every engine command shares, defined once so their help text reads the same everywhere.</summary>
internal static class CommonOptions
{
    public const string DatabaseUrlVariable = "GATEKEEPER_DATABASE_URL";

    public static Option<DirectoryInfo> Directory() => new("--dir", "-d")
    {
        Description = $"Directory of migration files ({string.Join(", ", MigrationFormats.All.Select(f => f.DisplayName))} layout).",
        Required = true,
        HelpName = "DIR",
    };

    public static Option<string?> Url() => new("--url", "-u")
    {
        Description = $"Database URL: postgres://user:pass@host:5432/db or mysql://user:pass@host:3306/db. " +
                      $"Prefer --url-file or ${DatabaseUrlVariable} so the password stays out of shell history.",
        HelpName = "URL",
    };

    public static Option<FileInfo?> UrlFile() => new("--url-file")
    {
        Description = "Read the database URL from this file (e.g. a mounted Kubernetes Secret).",
        HelpName = "FILE",
    };

    public static Option<string> Format() => new Option<string>("--format", "-f")
    {
        Description = "Migration file layout; auto detects it from names and markers.",
        DefaultValueFactory = _ => "auto",
        HelpName = "FORMAT",
    }.AcceptOnlyFromAmong([.. MigrationFormats.NamesWithAuto]);

    public static Option<string[]> Ignore() => new("--ignore")
    {
        Description = "Leave out files whose names match this pattern (* and ?; repeatable or comma separated), as a tool skips files it does " +
                      "not recognise; the plan lists them. For adopters whose directory holds files no naming rule accepts.",
        HelpName = "GLOB",
        Arity = ArgumentArity.ZeroOrMore,
    };

    /// <summary>The --ignore patterns, each flag possibly a comma list.</summary>
    public static IReadOnlyList<string> IgnorePatterns(string[]? values) =>
        values is null ? [] : [.. values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];

    public static Option<string?> HistoryTable() => new("--history-table")
    {
        Description = "History table to read and write (default gatekeeper_schema_history). Name another tool's table to adopt it " +
                      "in its own layout: flyway_schema_history, schema_migrations (golang-migrate or dbmate), gorp_migrations " +
                      "(sql-migrate), atlas_schema_revisions.atlas_schema_revisions (Atlas).",
        HelpName = "TABLE",
    };

    public static Option<OutputFormat> Output(bool withGithub = false)
    {
        var option = new Option<OutputFormat>("--output", "-o")
        {
            Description = withGithub ? "text (for people), json, or github (Actions annotations)." : "text (for people) or json.",
            DefaultValueFactory = _ => OutputFormat.Text,
            HelpName = "FORMAT",
        };
        option.AcceptOnlyFromAmong(withGithub ? ["text", "json", "github"] : ["text", "json"]);
        return option;
    }

    /// <summary>--url, then --url-file, then the environment; a usage error when none is given.</summary>
    public static string ResolveUrl(string? url, FileInfo? urlFile)
    {
        if (!string.IsNullOrWhiteSpace(url))
        {
            return url.Trim();
        }

        if (urlFile is not null)
        {
            if (!urlFile.Exists)
            {
                throw new CommandLineError($"--url-file {urlFile.FullName} does not exist.");
            }

            string text;
            try
            {
                text = File.ReadAllText(urlFile.FullName).Trim();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CommandLineError($"--url-file {urlFile.FullName} cannot be read: {e.Message}");
            }

            return text.Length > 0 ? text : throw new CommandLineError($"--url-file {urlFile.FullName} is empty.");
        }

        var fromEnvironment = Environment.GetEnvironmentVariable(DatabaseUrlVariable);
        return !string.IsNullOrWhiteSpace(fromEnvironment)
            ? fromEnvironment.Trim()
            : throw new CommandLineError($"no database URL: pass --url, --url-file or set {DatabaseUrlVariable}.");
    }
}

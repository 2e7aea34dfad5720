using System.CommandLine;
using System.Text;
using Gatekeeper.Core.Schema;
using Gatekeeper.Databases;

namespace Gatekeeper.Cli;

/// <summary>How <c>schema plan</c> prints: for people, only the SQL (nothing when there is nothing to do), or JSON.</summary>
internal enum SchemaOutputFormat
{
    Text,
    Sql,
    Json,
}

/// <summary>
/// The options every <c>gatekeeper schema</c> command shares (--to, --url, --dev-url, --exclude) and the one
/// way they become a checked desired state, a target and a dev database.
/// </summary>
internal sealed class SchemaCommandOptions
{
    public const string DevDatabaseUrlVariable = "GATEKEEPER_DEV_DATABASE_URL";

    private readonly Option<FileSystemInfo> _to = new("--to")
    {
        Description = "The desired schema: a .sql file, or a directory whose .sql files are read in name order (CREATE statements; " +
                      "pg_dump -s and mariadb-dump --no-data output is accepted as it is).",
        Required = true,
        HelpName = "FILE|DIR",
        CustomParser = result =>
        {
            var path = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            return Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
        },
    };

    private readonly Option<string?> _url = CommonOptions.Url();
    private readonly Option<FileInfo?> _urlFile = CommonOptions.UrlFile();

    private readonly Option<string?> _devUrl = new("--dev-url")
    {
        Description = "An empty database on a server of the same engine and version, where the desired state is loaded so the server " +
                      $"normalises it (PostgreSQL: loaded in a transaction that is rolled back; MySQL: emptied afterwards). Or ${DevDatabaseUrlVariable}.",
        HelpName = "URL",
    };

    private readonly Option<FileInfo?> _devUrlFile = new("--dev-url-file")
    {
        Description = "Read the dev database URL from this file.",
        HelpName = "FILE",
    };

    private readonly Option<bool> _devThrowaway = new("--dev-throwaway")
    {
        Description = "Treat --dev-url as a server, not a database: create a throwaway database there for each plan and drop it afterwards " +
                      "(without --dev-url, on --url's own server). Needs the right to create databases; what the migration Job uses in the cluster.",
    };

    private readonly Option<string[]> _exclude = new("--exclude")
    {
        Description = "Objects another tool owns, left alone on both sides: name or schema.name, * and ? as wildcards; repeat or comma-separate. " +
                      "Gatekeeper's own history tables are always excluded.",
        HelpName = "PATTERN",
        AllowMultipleArgumentsPerToken = false,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(_to);
        command.Options.Add(_url);
        command.Options.Add(_urlFile);
        command.Options.Add(_devUrl);
        command.Options.Add(_devUrlFile);
        command.Options.Add(_devThrowaway);
        command.Options.Add(_exclude);
    }

    /// <summary>Reads and checks the desired state first (a broken file is reported before any connection), then the URLs.</summary>
    public async Task<SchemaInputs> ResolveAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var targetText = CommonOptions.ResolveUrl(parse.GetValue(_url), parse.GetValue(_urlFile));
        if (!DatabaseUrl.TryParse(targetText, out var target, out var error))
        {
            throw new CommandLineError(error);
        }

        var (files, source) = await ReadFilesAsync(parse.GetRequiredValue(_to), cancellationToken);
        var read = DesiredSchemaReader.Read(files, target.Dialect);
        if (!read.Succeeded)
        {
            throw new CommandLineError(
                $"{source} is not a desired state Gatekeeper can load ({read.Problems.Count} problem{(read.Problems.Count == 1 ? string.Empty : "s")}):" +
                Environment.NewLine + string.Join(Environment.NewLine, read.Problems.Take(20).Select(p => "  " + p)) +
                (read.Problems.Count > 20 ? $"{Environment.NewLine}  … and {read.Problems.Count - 20} more" : string.Empty));
        }

        var throwaway = parse.GetValue(_devThrowaway);
        var devText = ResolveDevUrl(parse.GetValue(_devUrl), parse.GetValue(_devUrlFile), throwaway ? targetText : null);
        if (!DatabaseUrl.TryParse(devText, out var dev, out var devError))
        {
            throw new CommandLineError($"--dev-url: {devError}");
        }

        if (dev.Engine != target.Engine)
        {
            throw new CommandLineError($"--dev-url is a {dev.SqlEngine.DisplayName} database but --url a {target.SqlEngine.DisplayName} one; the dev database must be the same engine and version");
        }

        if (!throwaway && dev.Host == target.Host && dev.Port == target.Port && dev.Database == target.Database)
        {
            throw new CommandLineError($"--dev-url names the database itself ({target.Database} at {target.Endpoint}); the dev database must be an empty one of its own");
        }

        var patterns = (parse.GetValue(_exclude) ?? []).SelectMany(p => p.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        var exclusions = SchemaExclusions.Parse(patterns, target.Dialect, out var excludeError) ?? throw new CommandLineError(excludeError!);
        return new SchemaInputs(read.Schema, source, target, dev, exclusions) { DevThrowaway = throwaway };
    }

    /// <param name="fallback">The target's URL when a throwaway database may be made on its server; null when a dev database is required.</param>
    private static string ResolveDevUrl(string? url, FileInfo? file, string? fallback)
    {
        if (!string.IsNullOrWhiteSpace(url))
        {
            return url.Trim();
        }

        if (file is not null)
        {
            if (!file.Exists)
            {
                throw new CommandLineError($"--dev-url-file {file.FullName} does not exist.");
            }

            var text = File.ReadAllText(file.FullName).Trim();
            return text.Length > 0 ? text : throw new CommandLineError($"--dev-url-file {file.FullName} is empty.");
        }

        var fromEnvironment = Environment.GetEnvironmentVariable(DevDatabaseUrlVariable);
        return !string.IsNullOrWhiteSpace(fromEnvironment)
            ? fromEnvironment.Trim()
            : fallback ?? throw new CommandLineError($"no dev database: pass --dev-url or --dev-url-file, or set {DevDatabaseUrlVariable} (an empty database on a server like the target's)");
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static async Task<(List<DesiredSchemaFile> Files, string Source)> ReadFilesAsync(FileSystemInfo to, CancellationToken cancellationToken)
    {
        List<FileInfo> paths;
        switch (to)
        {
            case DirectoryInfo directory:
                paths = directory.EnumerateFiles("*.sql", SearchOption.TopDirectoryOnly).OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
                if (paths.Count == 0)
                {
                    throw new CommandLineError($"--to {directory} has no .sql files");
                }

                break;
            case FileInfo { Exists: true } file:
                paths = [file];
                break;
            default:
                throw new CommandLineError($"--to {to} does not exist");
        }

        var files = new List<DesiredSchemaFile>(paths.Count);
        foreach (var path in paths)
        {
            byte[] bytes;
            try
            {
                bytes = await File.ReadAllBytesAsync(path.FullName, cancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CommandLineError($"{path.FullName} cannot be read: {e.Message}");
            }

            string text;
            try
            {
                var start = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
                text = StrictUtf8.GetString(bytes, start, bytes.Length - start);
            }
            catch (DecoderFallbackException)
            {
                throw new CommandLineError($"{path.FullName} is not valid UTF-8");
            }

            files.Add(new DesiredSchemaFile(path.Name, text));
        }

        return (files, to.ToString());
    }
}

/// <summary>A checked desired state, where it came from, and the databases it is planned against.</summary>
internal sealed record SchemaInputs(DesiredSchema Desired, string Source, DatabaseUrl Target, DatabaseUrl Dev, SchemaExclusions Exclusions)
{
    /// <summary><see cref="Dev"/> names a server where each plan makes a throwaway database (<c>--dev-throwaway</c>).</summary>
    public bool DevThrowaway { get; init; }

    /// <summary>Where the desired state is loaded, for messages.</summary>
    public string DevDescription => DevThrowaway ? $"a throwaway database on {Dev.Endpoint}" : $"the dev database {Dev.Database} at {Dev.Endpoint}";
}

using Gatekeeper.Core.Integrity;

namespace Gatekeeper.Core.Migrations;

/// <summary>
/// Turns the files of a source into migrations in apply order: picks the <c>.sql</c> files (and atlas.sum; other
/// files and hidden ones are ignored), decodes them as strict UTF-8, detects or applies the format, parses each
/// file by its tool's rules, rejects ambiguous versions, and verifies atlas.sum. Problems are values, never exceptions.
/// </summary>
public static class MigrationDirectoryReader
{
    /// <summary>How a file name that no naming rule accepts can be left out on purpose; the problems about such names end with it.</summary>
    public const string IgnoreHint = "or leave it out on purpose with --ignore (the gatekeeper.dev/ignore annotation)";

    public static async Task<MigrationDirectoryReadResult> ReadAsync(IMigrationSource source, MigrationFormat? format, CancellationToken cancellationToken, IReadOnlyList<string>? ignore = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        var files = await source.ReadFilesAsync(cancellationToken).ConfigureAwait(false);
        return Read(source.Description, files, format, ignore);
    }

    /// <param name="source">Where the files came from, for messages.</param>
    /// <param name="files">Every file of the source, in any order.</param>
    /// <param name="format">The format to read; null detects it from names and markers.</param>
    /// <param name="ignore">File name patterns (<c>*</c> and <c>?</c>) to leave out, as a tool skips files it does not
    /// recognise; the files they match are listed in <see cref="MigrationDirectory.Ignored"/>, never dropped silently.</param>
    public static MigrationDirectoryReadResult Read(string source, IReadOnlyList<MigrationFile> files, MigrationFormat? format = null, IReadOnlyList<string>? ignore = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(files);
        var problems = new List<SourceProblem>();
        var ignored = new List<string>();
        if (ignore is { Count: > 0 })
        {
            ignored.AddRange(files.Select(f => f.Name).Where(name => IsIgnored(name, ignore)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
            files = files.Where(f => !IsIgnored(f.Name, ignore)).ToList();
        }

        foreach (var duplicate in files.GroupBy(f => f.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            problems.Add(new SourceProblem(duplicate.Key, $"appears {duplicate.Count()} times in {source}; file names must be unique."));
        }

        var visible = files.Where(f => !f.Name.StartsWith('.')).DistinctBy(f => f.Name, StringComparer.Ordinal).ToList();
        var texts = new List<MigrationFileText>();
        foreach (var file in visible.Where(f => f.Name.EndsWith(".sql", StringComparison.OrdinalIgnoreCase)).OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            if (MigrationFileText.Decode(file, problems) is { } text)
            {
                texts.Add(text);
            }
        }

        if (format is null)
        {
            if (visible.All(f => !f.Name.EndsWith(".sql", StringComparison.OrdinalIgnoreCase)))
            {
                problems.Add(new SourceProblem(null, $"{source} holds no .sql files, so there are no migrations and no format to detect."));
                return Failed(problems);
            }

            format = MigrationFormatDetector.Detect(texts, problems)?.Format;
            if (format is null)
            {
                return Failed(problems);
            }
        }

        var definition = MigrationFormats.Get(format.Value);
        var migrations = definition.Read(texts, visible, problems);

        var ordered = InApplyOrder(migrations);
        ReportAmbiguousVersions(ordered, definition, problems);

        var sumVerified = false;
        var sumFile = visible.FirstOrDefault(f => f.Name == AtlasSum.FileName);
        if (sumFile is not null && definition.AtlasSumCovers is { } covers)
        {
            // Atlas hashes every .sql file of its own layout, and only the .up.sql files of a golang-migrate layout.
            var hashed = visible.Where(f => covers(f.Name));
            var sumProblems = AtlasSum.Verify(sumFile.Content.Span, hashed);
            problems.AddRange(sumProblems);
            sumVerified = sumProblems.Count == 0;
        }

        return problems.Count > 0
            ? Failed(problems)
            : new MigrationDirectoryReadResult(new MigrationDirectory(source, format.Value, ordered, sumVerified) { Ignored = ignored }, []);
    }

    /// <summary>True when <paramref name="name"/> matches one of the patterns (<c>*</c> any run of characters, <c>?</c> one), case-sensitively.</summary>
    public static bool IsIgnored(string name, IReadOnlyList<string> patterns)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(patterns);
        foreach (var pattern in patterns)
        {
            if (System.IO.Enumeration.FileSystemName.MatchesSimpleExpression(pattern, name, ignoreCase: false))
            {
                return true;
            }
        }

        return false;
    }

    internal static Migration Create(
        MigrationFileText file,
        string id,
        MigrationVersion version,
        string description,
        MigrationKind kind,
        string upSql,
        int upStartLine,
        string? downSql,
        bool transactional) =>
        new(id, version, description, kind, file.Name, upSql, upStartLine, downSql, transactional,
            Checksum: null!, file.File.Content); // null: computed from the content when first read (Migration.Checksum)

    /// <summary>
    /// By kind, then version (versioned migrations), then id, ties kept in the order given: what LINQ's stable
    /// OrderBy/ThenBy gave, without its ThenBy, a generic virtual call that Native AOT resolves through its type loader
    /// the first time (about 4 % of a small directory's whole lint process).
    /// </summary>
    private static List<Migration> InApplyOrder(IEnumerable<Migration> migrations)
    {
        var indexed = new List<(Migration Migration, int Index)>();
        foreach (var migration in migrations)
        {
            indexed.Add((migration, indexed.Count));
        }

        var versions = Comparer<MigrationVersion?>.Default;
        indexed.Sort((a, b) =>
        {
            var (x, y) = (a.Migration, b.Migration);
            var order = Comparer<MigrationKind>.Default.Compare(x.Kind, y.Kind);
            if (order == 0)
            {
                order = versions.Compare(x.Kind == MigrationKind.Versioned ? x.Version : null, y.Kind == MigrationKind.Versioned ? y.Version : null);
            }

            if (order == 0)
            {
                order = StringComparer.Ordinal.Compare(x.Id, y.Id);
            }

            return order != 0 ? order : a.Index.CompareTo(b.Index);
        });
        return indexed.ConvertAll(entry => entry.Migration);
    }

    private static MigrationDirectoryReadResult Failed(List<SourceProblem> problems) => new(null, problems);

    private static void ReportAmbiguousVersions(List<Migration> ordered, MigrationFormatDefinition format, List<SourceProblem> problems)
    {
        // Sorted, so equal versions (1 and 1.0 compare equal) and equal repeatable ids sit next to each other.
        for (var i = 1; i < ordered.Count; i++)
        {
            var (previous, current) = (ordered[i - 1], ordered[i]);
            if (previous.Kind != current.Kind)
            {
                continue;
            }

            if (current.Kind == MigrationKind.Repeatable)
            {
                if (string.Equals(previous.Id, current.Id, StringComparison.Ordinal))
                {
                    problems.Add(new SourceProblem(null, $"{previous.FileName} and {current.FileName} are both the repeatable migration '{current.Id}'; rename one of them."));
                }

                continue;
            }

            if (previous.Version.Equals(current.Version))
            {
                var same = previous.Version.Text == current.Version.Text
                    ? $"both have version {current.Version}"
                    : $"have versions {previous.Version} and {current.Version}, which {format.DisplayName} treats as the same";
                problems.Add(new SourceProblem(null, $"{previous.FileName} and {current.FileName} {same}; versions must be unique, so renumber one of them."));
            }
        }
    }
}

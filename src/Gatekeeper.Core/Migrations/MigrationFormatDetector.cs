namespace Gatekeeper.Core.Migrations;

/// <summary>
/// Recognises a directory's tool from each file, asking the formats of <see cref="MigrationFormats"/> in detection
/// order: markers inside a file are the strongest evidence (sql-migrate's <c>-- +migrate</c>, dbmate's
/// <c>-- migrate:up</c>), then names only one tool gives (<c>.up.sql</c>/<c>.down.sql</c> pairs are golang-migrate
/// even when Atlas hashed them; <c>V…__</c>/<c>R__</c> are Flyway; numbered names are Atlas). The recognised files
/// must all point to one tool; files it does not recognise are then read by that tool's rules, which say what is
/// wrong with each name. A directory where no file is recognised gets one problem saying what each format expects.
/// </summary>
internal static class MigrationFormatDetector
{
    private const int NamesListed = 5;

    public static MigrationFormatDefinition? Detect(IReadOnlyList<MigrationFileText> files, List<SourceProblem> problems)
    {
        var byFormat = new SortedDictionary<MigrationFormat, List<string>>();
        var unmatched = new List<string>();
        foreach (var file in files)
        {
            if (Classify(file) is { } format)
            {
                if (!byFormat.TryGetValue(format.Format, out var names))
                {
                    byFormat[format.Format] = names = [];
                }

                names.Add(file.Name);
            }
            else
            {
                unmatched.Add(file.Name);
            }
        }

        if (byFormat.Count > 1)
        {
            var parts = byFormat.Select(pair => $"{MigrationFormats.Name(pair.Key)}: {List(pair.Value)}");
            problems.Add(new SourceProblem(null, $"the directory mixes migration formats ({string.Join("; ", parts)}); keep one tool's files per directory."));
            return null;
        }

        if (byFormat.Count == 0 && unmatched.Count == 0)
        {
            // Every .sql file failed to decode: those problems already say why.
            return null;
        }

        if (byFormat.Count == 0)
        {
            var expectations = string.Join("; ", MigrationFormats.All.Select(f => $"{f.DisplayName} expects {f.Expects}"));
            problems.Add(new SourceProblem(null,
                $"{List(unmatched)} match{(unmatched.Count == 1 ? "es" : string.Empty)} none of the {MigrationFormats.All.Count} migration formats Gatekeeper reads: {expectations}. " +
                "Rename the files to one tool's layout, or pass the format explicitly (--format, or the gatekeeper.dev/format annotation) to see what that tool would make of each file."));
            return null;
        }

        return MigrationFormats.Get(byFormat.Keys.Single());
    }

    private static MigrationFormatDefinition? Classify(MigrationFileText file)
    {
        foreach (var format in MigrationFormats.ByDetectionRank)
        {
            if (format.Recognises(file))
            {
                return format;
            }
        }

        return null;
    }

    private static string List(List<string> names) =>
        names.Count <= NamesListed
            ? string.Join(", ", names)
            : $"{string.Join(", ", names.Take(NamesListed))} and {names.Count - NamesListed} more";
}

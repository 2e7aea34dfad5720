using System.Globalization;

namespace Gatekeeper.Core.Sql;

/// <summary>
/// A database server's version as it reports it ("15.4", "8.0.36", "10.11.6-MariaDB-0+deb12u1", MariaDB's
/// replication-compatible "5.5.5-10.11.6-MariaDB"), with the patch level kept: MySQL changes behaviour within a minor
/// version (8.0.12 and 8.0.29 instant columns, 8.0.13 expression defaults, 8.0.16 CHECK, 8.0.19 DROP CONSTRAINT) and
/// reads <c>/*!80013 … */</c> by it. Distribution suffixes ("8.0.36-0ubuntu0.22.04.1", "-log", Percona's "-28") are
/// ignored; anything else that does not start with a version is not read as one.
/// </summary>
public sealed record ServerVersion(int Major, int Minor, int Patch, bool IsMariaDb)
{
    /// <summary>False when the text stopped before the patch level ("8.0", "16"): MySQL rules that turn on a patch level cannot be decided from it.</summary>
    public bool PatchKnown { get; init; } = true;

    /// <summary>The one sentence for a version text that <see cref="Parse"/> cannot read, naming where it came from.</summary>
    public static string Unreadable(string? text, string source) =>
        $"{source} '{Shorten(text)}' is not a server version Gatekeeper can read (it expects one such as 16.4, 8.0.36 or 10.11.6-MariaDB), " +
        "so version-dependent lint rules judge as for a current server";

    private static string Shorten(string? text)
    {
        var s = (text ?? string.Empty).Trim();
        return s.Length > 60 ? s[..60] + "…" : s;
    }

    /// <summary>The version in <paramref name="text"/>, or null when it does not start with a number.</summary>
    public static ServerVersion? Parse(string? text)
    {
        var s = (text ?? string.Empty).Trim();
        var mariaDb = s.Contains("mariadb", StringComparison.OrdinalIgnoreCase);
        if (mariaDb && s.StartsWith("5.5.5-", StringComparison.Ordinal))
        {
            s = s["5.5.5-".Length..];
        }

        var start = s.StartsWith("mariadb-", StringComparison.OrdinalIgnoreCase) ? "mariadb-".Length : 0;
        var parts = new int[3];
        var i = start;
        var count = 0;
        while (count < 3)
        {
            var digits = 0;
            while (i + digits < s.Length && char.IsAsciiDigit(s[i + digits]))
            {
                digits++;
            }

            if (digits is 0 or > 6 || !int.TryParse(s.AsSpan(i, digits), NumberStyles.None, CultureInfo.InvariantCulture, out parts[count]))
            {
                break;
            }

            count++;
            i += digits;
            if (i >= s.Length || s[i] != '.')
            {
                break;
            }

            i++;
        }

        if (count == 0 || (i < s.Length && s[i] is not ('-' or '.' or ' ' or '+' or '(')))
        {
            return null;
        }

        return new ServerVersion(parts[0], parts[1], parts[2], mariaDb) { PatchKnown = count == 3 };
    }

    /// <summary>MySQL's and MariaDB's version number in executable comments: 8.0.13 is 80013, 10.11.6 is 101106.</summary>
    public int Number => (Major * 10000) + (Minor * 100) + Patch;

    public bool AtLeast(int major, int minor = 0, int patch = 0) =>
        Major != major ? Major > major : Minor != minor ? Minor > minor : Patch >= patch;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{(IsMariaDb ? "MariaDB " : string.Empty)}{Numbers}");

    /// <summary>The version numbers as given: "8.0.36", or "8.0" when the patch level was left out.</summary>
    public string Numbers => PatchKnown
        ? string.Create(CultureInfo.InvariantCulture, $"{Major}.{Minor}.{Patch}")
        : string.Create(CultureInfo.InvariantCulture, $"{Major}.{Minor}");
}

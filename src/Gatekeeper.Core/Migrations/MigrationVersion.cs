using System.Collections.Immutable;
using System.Numerics;

namespace Gatekeeper.Core.Migrations;

/// <summary>
/// A migration version compared the way people expect: dotted numeric parts compared as numbers
/// ("10" after "9", Flyway's 1.10 after 1.2, missing parts count as zero so 1 equals 1.0), then an
/// ordinal tie-break (sql-migrate orders files that share a numeric prefix by their whole name).
/// </summary>
public sealed class MigrationVersion : IComparable<MigrationVersion>, IEquatable<MigrationVersion>
{
    private MigrationVersion(string text, ImmutableArray<BigInteger> parts, string tieBreak)
    {
        Text = text;
        Parts = parts;
        TieBreak = tieBreak;
    }

    /// <summary>The version as the tool writes it in its history table ("1.10", "20230101120000").</summary>
    public string Text { get; }

    public ImmutableArray<BigInteger> Parts { get; }

    /// <summary>Compared ordinally when the numeric parts are equal; empty for most tools.</summary>
    public string TieBreak { get; }

    /// <summary>
    /// Parses dot-separated digits ("1.10", "20230101120000"). Returns null when any part is not a
    /// non-empty run of ASCII digits.
    /// </summary>
    public static MigrationVersion? TryParse(string text, string tieBreak = "")
    {
        if (text.Length == 0)
        {
            return null;
        }

        var segments = text.Split('.');
        var parts = ImmutableArray.CreateBuilder<BigInteger>(segments.Length);
        foreach (var segment in segments)
        {
            if (segment.Length == 0 || !segment.All(char.IsAsciiDigit))
            {
                return null;
            }

            parts.Add(BigInteger.Parse(segment, System.Globalization.CultureInfo.InvariantCulture));
        }

        return new MigrationVersion(text, parts.MoveToImmutable(), tieBreak);
    }

    public static MigrationVersion Parse(string text, string tieBreak = "") =>
        TryParse(text, tieBreak) ?? throw new FormatException($"'{text}' is not a migration version (dot-separated digits).");

    /// <summary>Numeric comparison of the parts only, ignoring the tie-break (used for "applied through").</summary>
    public int CompareNumeric(MigrationVersion other)
    {
        var length = Math.Max(Parts.Length, other.Parts.Length);
        for (var i = 0; i < length; i++)
        {
            var left = i < Parts.Length ? Parts[i] : BigInteger.Zero;
            var right = i < other.Parts.Length ? other.Parts[i] : BigInteger.Zero;
            var cmp = left.CompareTo(right);
            if (cmp != 0)
            {
                return cmp;
            }
        }

        return 0;
    }

    public int CompareTo(MigrationVersion? other)
    {
        if (other is null)
        {
            return 1;
        }

        var cmp = CompareNumeric(other);
        return cmp != 0 ? cmp : string.CompareOrdinal(TieBreak, other.TieBreak);
    }

    public bool Equals(MigrationVersion? other) => other is not null && CompareTo(other) == 0;

    public override bool Equals(object? obj) => Equals(obj as MigrationVersion);

    public override int GetHashCode()
    {
        // Equal versions may differ in trailing zero parts (1 == 1.0), so hash without them.
        var hash = new HashCode();
        var last = Parts.Length - 1;
        while (last >= 0 && Parts[last].IsZero)
        {
            last--;
        }

        for (var i = 0; i <= last; i++)
        {
            hash.Add(Parts[i]);
        }

        hash.Add(TieBreak, StringComparer.Ordinal);
        return hash.ToHashCode();
    }

    public override string ToString() => Text;

    public static bool operator ==(MigrationVersion? left, MigrationVersion? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(MigrationVersion? left, MigrationVersion? right) => !(left == right);

    public static bool operator <(MigrationVersion? left, MigrationVersion? right) => left is null ? right is not null : left.CompareTo(right) < 0;

    public static bool operator <=(MigrationVersion? left, MigrationVersion? right) => left is null || left.CompareTo(right) <= 0;

    public static bool operator >(MigrationVersion? left, MigrationVersion? right) => left is not null && left.CompareTo(right) > 0;

    public static bool operator >=(MigrationVersion? left, MigrationVersion? right) => left is null ? right is null : left.CompareTo(right) >= 0;
}

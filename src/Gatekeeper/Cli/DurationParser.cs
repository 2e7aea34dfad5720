using System.CommandLine;
using System.Globalization;

namespace Gatekeeper.Cli;

/// <summary>Parses durations as people write them on command lines and in annotations: 90s, 5m, 1h30m, 250ms.</summary>
internal static class DurationParser
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var rest = text.Trim();
        if (rest.Length == 0)
        {
            return false;
        }

        while (rest.Length > 0)
        {
            var digits = 0;
            while (digits < rest.Length && (char.IsAsciiDigit(rest[digits]) || rest[digits] == '.'))
            {
                digits++;
            }

            if (digits == 0 || !double.TryParse(rest[..digits], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            {
                return false;
            }

            rest = rest[digits..];
            var unit = rest.StartsWith("ms", StringComparison.Ordinal) ? "ms" : rest.Length > 0 ? rest[..1] : string.Empty;
            TimeSpan part;
            switch (unit)
            {
                case "ms": part = TimeSpan.FromMilliseconds(value); break;
                case "s": part = TimeSpan.FromSeconds(value); break;
                case "m": part = TimeSpan.FromMinutes(value); break;
                case "h": part = TimeSpan.FromHours(value); break;
                default: return false;
            }

            duration += part;
            rest = rest[unit.Length..];
        }

        return duration > TimeSpan.Zero;
    }

    public static Option<TimeSpan> Option(string name, string description, TimeSpan defaultValue) => new(name)
    {
        Description = description,
        HelpName = "DURATION",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            var token = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            if (TryParse(token, out var value))
            {
                return value;
            }

            result.AddError($"{name} '{token}' is not a duration; write it like 30s, 5m or 1h30m.");
            return default;
        },
    };
}

using System.Globalization;
using System.Text.RegularExpressions;

namespace Gatekeeper.Delivery.Tests;

/// <summary>One settable property of an options record, with its default as the source writes it.</summary>
public sealed record OptionProperty(string Name, string Type, string? Initializer)
{
    /// <summary>
    /// The default as a value comparable with a Helm value: numbers, booleans, strings, time spans and empty lists,
    /// from the forms the options records use (<c>4 * 1024 * 1024</c>, <c>TimeSpan.FromSeconds(8)</c>, <c>[]</c>).
    /// </summary>
    public object? DefaultValue()
    {
        var type = Type.TrimEnd('?');
        if (Initializer is null)
        {
            return type switch
            {
                "bool" => false,
                "int" or "long" or "double" => 0L,
                "TimeSpan" => TimeSpan.Zero,
                _ when type.StartsWith("IList<", StringComparison.Ordinal) || type.StartsWith("IReadOnlyList<", StringComparison.Ordinal) => Array.Empty<string>(),
                _ => null,
            };
        }

        var text = Initializer.Trim();
        if (text is "true" or "false")
        {
            return text == "true";
        }

        if (text == "[]")
        {
            return Array.Empty<string>();
        }

        if (text.StartsWith('"') && text.EndsWith('"'))
        {
            return text[1..^1];
        }

        if (OptionsSource.TimeSpanFactory().Match(text) is { Success: true } factory)
        {
            var amount = double.Parse(factory.Groups["amount"].Value, CultureInfo.InvariantCulture);
            return factory.Groups["unit"].Value switch
            {
                "Milliseconds" => TimeSpan.FromMilliseconds(amount),
                "Seconds" => TimeSpan.FromSeconds(amount),
                "Minutes" => TimeSpan.FromMinutes(amount),
                "Hours" => TimeSpan.FromHours(amount),
                _ => throw new InvalidOperationException($"{Name}: unknown TimeSpan factory in \"{text}\"."),
            };
        }

        if (OptionsSource.Product().IsMatch(text))
        {
            return text.Split('*').Select(part => long.Parse(part.Trim().TrimEnd('L'), CultureInfo.InvariantCulture)).Aggregate(1L, (a, b) => a * b);
        }

        if (text.StartsWith(type + ".", StringComparison.Ordinal) && text[(type.Length + 1)..].All(char.IsLetterOrDigit))
        {
            // An enum member; the configuration binder reads its name in any case.
            return new EnumMember(text[(type.Length + 1)..]);
        }

        throw new InvalidOperationException($"{Name}: the default \"{text}\" is not a form this test understands; teach OptionProperty.DefaultValue.");
    }
}

/// <summary>The default of an enum option: the member's name.</summary>
public sealed record EnumMember(string Name);

/// <summary>Reads an options record's settable properties (<c>public T Name { get; set; } = default;</c>) from its source.</summary>
public static partial class OptionsSource
{
    public static IReadOnlyList<OptionProperty> Properties(string source, string recordName)
    {
        var start = source.IndexOf($"record {recordName}", StringComparison.Ordinal);
        Assert.True(start >= 0, $"record {recordName} was not found in its source file.");
        var body = source[start..];
        var end = body.IndexOf("\n}", StringComparison.Ordinal);
        body = end > 0 ? body[..end] : body;
        return Property().Matches(body)
            .Select(m => new OptionProperty(m.Groups["name"].Value, m.Groups["type"].Value.Trim(), m.Groups["init"].Success ? m.Groups["init"].Value : null))
            .ToList();
    }

    [GeneratedRegex(@"public\s+(?<type>[\w<>?,\s\[\]]+?)\s+(?<name>\w+)\s*\{\s*get;\s*(?:set|init);\s*\}(?:\s*=\s*(?<init>[^;]+);)?")]
    private static partial Regex Property();

    [GeneratedRegex(@"^TimeSpan\.From(?<unit>\w+)\((?<amount>[0-9.]+)\)$")]
    internal static partial Regex TimeSpanFactory();

    [GeneratedRegex(@"^[0-9]+L?(\s*\*\s*[0-9]+L?)*$")]
    internal static partial Regex Product();
}

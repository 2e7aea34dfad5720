using System.Globalization;
using Gatekeeper.Core.Sql;

namespace Gatekeeper.Core.Lint.Syntax;

/// <summary>
/// A column type as written (<c>varchar(255)</c>, <c>timestamp with time zone</c>, <c>ENUM('a','b')</c>, <c>int[]</c>),
/// reduced to a canonical name so that aliases compare equal (<c>int4</c> = <c>integer</c>, <c>character varying</c> = <c>varchar</c>).
/// </summary>
internal sealed record SqlType(string Name, IReadOnlyList<string> Arguments, bool IsArray, bool Unsigned, string Text)
{
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["int"] = "integer",
        ["int4"] = "integer",
        ["integer"] = "integer",
        ["int8"] = "bigint",
        ["bigint"] = "bigint",
        ["int2"] = "smallint",
        ["smallint"] = "smallint",
        ["serial4"] = "serial",
        ["serial"] = "serial",
        ["serial8"] = "bigserial",
        ["bigserial"] = "bigserial",
        ["serial2"] = "smallserial",
        ["smallserial"] = "smallserial",
        ["character varying"] = "varchar",
        ["varchar"] = "varchar",
        ["nvarchar"] = "varchar",
        ["national varchar"] = "varchar",
        ["national character varying"] = "varchar",
        ["character"] = "char",
        ["char"] = "char",
        ["bpchar"] = "char",
        ["nchar"] = "char",
        ["national char"] = "char",
        ["national character"] = "char",
        ["timestamp"] = "timestamp",
        ["timestamp without time zone"] = "timestamp",
        ["timestamptz"] = "timestamptz",
        ["timestamp with time zone"] = "timestamptz",
        ["time"] = "time",
        ["time without time zone"] = "time",
        ["timetz"] = "timetz",
        ["time with time zone"] = "timetz",
        ["bool"] = "boolean",
        ["boolean"] = "boolean",
        ["float8"] = "double precision",
        ["double precision"] = "double precision",
        ["double"] = "double precision",
        ["float4"] = "real",
        ["real"] = "real",
        ["decimal"] = "numeric",
        ["numeric"] = "numeric",
        ["dec"] = "numeric",
        ["bit varying"] = "varbit",
        ["varbit"] = "varbit",
    };

    public bool IsSerial => Name is "serial" or "bigserial" or "smallserial";

    /// <summary>32-bit or smaller integer types (the ones that run out on a busy key).</summary>
    public bool IsSmallInteger => Name is "integer" or "smallint" or "serial" or "smallserial" or "mediumint" or "tinyint";

    public int? Length => Arguments.Count > 0 && int.TryParse(Arguments[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;

    public int? Scale => Arguments.Count > 1 && int.TryParse(Arguments[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;

    public bool IsEnumOrSet => Name is "enum" or "set";

    public static string Canonical(string written) => Aliases.TryGetValue(written, out var canonical) ? canonical : written;

    /// <summary>The type as one short line for messages (an ENUM of 30 values would otherwise fill the screen).</summary>
    public string Display
    {
        get
        {
            var text = string.Join(' ', Text.Split([' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries));
            return text.Length <= 60 ? text : text[..57] + "…";
        }
    }

    public override string ToString() => Text;

    /// <summary>
    /// Reads a type starting at <paramref name="index"/> and stops before the first column attribute
    /// (<c>NOT NULL</c>, <c>DEFAULT</c>, <c>COLLATE</c>, …), a top-level comma, or <paramref name="end"/>.
    /// </summary>
    public static SqlType? Read(StatementTokens t, ref int index, int end)
    {
        var start = index;
        var words = new List<string>(3);
        List<string>? arguments = null;
        var isArray = false;
        var unsigned = false;
        while (index < end)
        {
            if (t.IsKind(index, SqlTokenKind.Word) || (words.Count == 0 && t.IsKind(index, SqlTokenKind.QuotedIdentifier)))
            {
                if (words.Count > 0 && IsAttributeStart(t, index))
                {
                    break;
                }

                if (t.IsWord(index, "unsigned"))
                {
                    unsigned = true;
                }
                else if (!t.IsAnyWord(index, ["signed", "zerofill", "binary", "ascii", "unicode"]) || words.Count == 0)
                {
                    words.Add(t.Identifier(index));
                }

                index++;
            }
            else if (t.IsOperator(index, ".") && words.Count > 0 && t.IsName(index + 1))
            {
                // A schema-qualified type (public.citext): keep the type name, drop the schema.
                words.Clear();
                index++;
            }
            else if (t.IsOpen(index) && words.Count > 0)
            {
                var close = t.SkipParens(index);
                foreach (var (s, e) in t.SplitTopLevel(index + 1, close - 1))
                {
                    (arguments ??= []).Add(e - s == 1 && t.IsKind(s, SqlTokenKind.String) ? t.StringValue(s) : t.Source[t[s].Start..(t[e - 1].Start + t[e - 1].Length)]);
                }

                index = close;
            }
            else if ((t.IsOperator(index, "[") || t.IsOperator(index, "[]")) && words.Count > 0)
            {
                isArray = true;
                while (index < end && !t.IsOperator(index, "]") && !t.IsOperator(index, "[]"))
                {
                    index++;
                }

                index++;
            }
            else
            {
                break;
            }
        }

        if (words.Count == 0)
        {
            index = start;
            return null;
        }

        var written = string.Join(' ', words);
        var name = Canonical(written);
        var text = t.Source.AsSpan(t[start].Start, t[index - 1].Start + t[index - 1].Length - t[start].Start);
        isArray |= words.Contains("array");
        var recent = Recent ??= new Dictionary<string, SqlType>(StringComparer.Ordinal);
        if (recent.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(text, out var known) &&
            known.Name == name && known.IsArray == isArray && known.Unsigned == unsigned && (arguments is null ? known.Arguments.Count == 0 : known.Arguments.SequenceEqual(arguments)))
        {
            return known;
        }

        var type = new SqlType(name, arguments ?? (IReadOnlyList<string>)[], isArray, unsigned, text.ToString());
        if (recent.Count >= MaxRecent)
        {
            recent.Clear();
        }

        recent[type.Text] = type;
        return type;
    }

    // The types read lately on this thread, by their text: bigint, text, varchar(255) come back column after column,
    // and the plan keeps every column of every table it creates, so an equal type read again is shared (it is immutable)
    // rather than kept once per column with its own text and argument list. Shared only when every part is equal.
    private const int MaxRecent = 256;

    [ThreadStatic]
    private static Dictionary<string, SqlType>? Recent;

    private static bool IsAttributeStart(StatementTokens t, int index) =>
        t.IsAnyWord(index, [
            "not", "null", "default", "primary", "unique", "references", "check", "constraint", "collate", "generated",
            "auto_increment", "comment", "as", "first", "after", "on", "charset", "key", "visible", "invisible", "storage",
            "column_format", "srid", "using", "compression", "identity", "serial",
        ]) || t.IsWord(index, "character", "set");
}

namespace Gatekeeper.Core.Sql;

public enum SqlTokenKind
{
    /// <summary>Keyword or unquoted identifier; compare case-insensitively.</summary>
    Word,
    /// <summary><c>"name"</c> (PostgreSQL, ANSI) or <c>`name`</c> (MySQL).</summary>
    QuotedIdentifier,
    /// <summary><c>'…'</c>, <c>E'…'</c>, <c>N'…'</c>, <c>X'…'</c>, <c>B'…'</c>, MySQL <c>"…"</c>.</summary>
    String,
    /// <summary><c>$$…$$</c> or <c>$tag$…$tag$</c> (PostgreSQL).</summary>
    DollarString,
    Number,
    /// <summary><c>$1</c>, <c>?</c>, <c>:name</c>, <c>@var</c>.</summary>
    Parameter,
    /// <summary>Any operator or punctuation other than the ones below (<c>=</c>, <c>::</c>, <c>.</c>, <c>,</c>, …).</summary>
    Operator,
    OpenParen,
    CloseParen,
    /// <summary>The statement terminator: <c>;</c> or the current MySQL <c>DELIMITER</c>.</summary>
    Terminator,
    LineComment,
    BlockComment,
    /// <summary>MySQL/MariaDB <c>/*! … */</c> or <c>/*!NNNNN … */</c> (and MariaDB <c>/*M! … */</c>): executed, not ignored.</summary>
    ExecutableComment,
    /// <summary>A MySQL client <c>DELIMITER x</c> line (consumed by the splitter, never sent to the server).</summary>
    DelimiterDirective,
}

/// <summary>A token; offsets index the whole source text, lines and columns are 1-based in the file.</summary>
public readonly record struct SqlToken(SqlTokenKind Kind, int Start, int Length, int Line, int Column);

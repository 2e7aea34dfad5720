using System.Globalization;
using System.Text.RegularExpressions;

namespace Gatekeeper.Kubernetes.Controller;

/// <summary>Turns what a failed Job says into one sentence for a status and an Event, without credentials.</summary>
public static partial class FailureMessages
{
    private const int MaxDetailLength = 600;

    /// <summary>The Job's Failed condition in words, when its pod said nothing.</summary>
    public static string FromCondition(string? reason, string? message, TimeSpan timeout) => reason switch
    {
        "DeadlineExceeded" => $"the migration did not finish within {Duration(timeout)} ({GatekeeperNames.JobTimeout})",
        "BackoffLimitExceeded" => "the migration pod failed on every try and left no message",
        null or "" => "the Job failed and left no message",
        _ => Clean(string.IsNullOrWhiteSpace(message) ? reason : $"{reason}: {message}"),
    };

    /// <summary>
    /// A pod's termination message as one line: the last few lines of it (with <c>FallbackToLogsOnError</c> it may be
    /// the log's tail), URL passwords and password settings blanked, cut to a readable length.
    /// </summary>
    public static string Clean(string raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var lines = raw.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var text = string.Join(" ", lines.Length > 3 ? lines[^3..] : lines);
        text = UrlCredentials().Replace(text, "://$1:***@");
        text = PasswordSetting().Replace(text, "$1=***");
        return text.Length > MaxDetailLength ? "…" + text[^(MaxDetailLength - 1)..] : text;
    }

    public static string Duration(TimeSpan value)
    {
        if (value < TimeSpan.FromMinutes(1))
        {
            return Math.Round(value.TotalSeconds, value.TotalSeconds < 10 ? 1 : 0, MidpointRounding.AwayFromZero).ToString(CultureInfo.InvariantCulture) + "s";
        }

        var text = value.Hours + (value.Days * 24) > 0 ? $"{value.Hours + (value.Days * 24)}h" : string.Empty;
        text += value.Minutes > 0 ? $"{value.Minutes}m" : string.Empty;
        return value.Seconds > 0 ? text + $"{value.Seconds}s" : text;
    }

    [GeneratedRegex(@"://([^:/@\s]+):[^@/\s]+@")]
    private static partial Regex UrlCredentials();

    [GeneratedRegex(@"(?i)\b(password|pwd|pass)\s*=\s*[^;\s]+")]
    private static partial Regex PasswordSetting();
}

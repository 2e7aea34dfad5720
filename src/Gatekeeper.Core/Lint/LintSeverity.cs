namespace Gatekeeper.Core.Lint;

/// <summary>How much a finding matters: an error blocks the rollout unless allowed, a warning is shown.</summary>
public enum LintSeverity
{
    Warning,
    Error,
}

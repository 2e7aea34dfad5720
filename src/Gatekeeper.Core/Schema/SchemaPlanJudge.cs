using System.Text;
using Gatekeeper.Core.Integrity;
using Gatekeeper.Core.Planning;

namespace Gatekeeper.Core.Schema;

/// <summary>
/// The verdict on a declarative plan: a difference the differ refuses to express blocks it (nothing can allow that),
/// everything else is <see cref="PlanJudge.Judge"/>'s, on the plan's statements as one migration: the expected hash,
/// lint findings with the team's allowances and approvals, and the dry-run, exactly as for a migration directory.
/// </summary>
public static class SchemaPlanJudge
{
    /// <param name="evidence">Everything but the plan, which is <paramref name="plan"/> (<see cref="PlanEvidence.Plan"/> is replaced).</param>
    public static PlanVerdict Judge(SchemaPlan plan, PlanEvidence evidence)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(evidence);
        if (plan.IsBlocked)
        {
            return PlanVerdict.Deny(PlanVerdictReasons.PlanBlocked, Blocked(evidence.Audience, evidence.Subject, plan), []);
        }

        return PlanJudge.Judge(evidence with { Plan = plan.ToMigrationPlan() });
    }

    private static string Blocked(VerdictAudience audience, string subject, SchemaPlan plan)
    {
        var text = new StringBuilder();
        text.Append(audience == VerdictAudience.Admission ? "gatekeeper: rollout of " + subject : "plan " + Hashes.Short(plan.Hash) + " for " + subject)
            .Append(" blocked: the desired schema differs from ").Append(plan.Database.Database).Append(" in ways Gatekeeper will not turn into statements\n");
        foreach (var note in plan.Notes.Where(n => n.Blocking))
        {
            text.Append("  ").Append(note.Object).Append(": ").Append(note.Message).Append('\n');
        }

        text.Append("To proceed: change the desired state, or make this change by hand in a migration of its own; it cannot be allowed or approved.");
        return text.ToString();
    }
}

using Slipway.Core.Runs;

namespace Slipway.Core.Secrets;

/// <summary>
/// Protected project variables and secrets reach only runs of protected branches and deployments. A branch's
/// pipeline file is written by whoever pushes the branch, and masking cannot stop a script that wants to leak a
/// value (xxd, rev, writing it to a file), so a value that must not reach unreviewed code is protected: code on a
/// protected branch went through a merge, and a deployment runs the reviewed release's process. Pure.
/// </summary>
public static class VariableProtection
{
    /// <summary>The rule's name, at the start of every refusal.</summary>
    public const string Rule = "protected-secret";

    /// <summary>
    /// The protected flag a variable is stored with. Given explicitly, it is taken as given. Otherwise a new secret is
    /// protected and a new plain variable is not; a changed variable keeps its flag, except that one becoming a
    /// secret becomes protected (so re-setting a value never silently unprotects it).
    /// </summary>
    /// <param name="existing">The variable as stored before, or null for a new one.</param>
    public static bool Resolve(bool? requested, bool secret, (bool Secret, bool Protected)? existing) =>
        requested ?? existing switch
        {
            null => secret,
            var (wasSecret, wasProtected) => wasProtected || (secret && !wasSecret),
        };

    /// <summary>
    /// The refusal when a set would turn the secret <paramref name="name"/> into a plain variable. A secret is never made
    /// plain by setting a value: its next value would be shown to every reader and no longer masked, and a rotation that
    /// forgot the secret flag would do exactly that; deleting it first makes the change deliberate. The stores enforce it in
    /// the upsert itself (the update is skipped when the row is a secret and the new value is not), so concurrent sets
    /// cannot get around it.
    /// </summary>
    public static string SecretToPlainRefusal(string name) =>
        $"'{name}' is a secret: set its new value as a secret, or delete it first to make it a plain variable (its value would be shown and no longer masked)";

    /// <summary>Whether a run may receive protected values: a deployment, or a build of a protected branch.</summary>
    public static bool MayReceiveProtected(bool isDeployment, bool branchProtected) => isDeployment || branchProtected;

    /// <summary>
    /// One error per job of a build run on an unprotected branch that lists a protected secret (empty: the plan may
    /// run). Jobs of stages skipped by their <c>when</c> filter never run, so they ask for nothing.
    /// </summary>
    public static IReadOnlyList<string> Violations(RunPlan plan, string branch, bool branchProtected, IReadOnlySet<string> protectedSecrets)
    {
        if (MayReceiveProtected(false, branchProtected)) return [];
        return plan.Stages.Where(s => !s.Skipped).SelectMany(s => s.Jobs)
            .SelectMany(j => (j.Secrets ?? []).Where(protectedSecrets.Contains).Select(secret => Refusal(j.Name, secret, branch)))
            .ToList();
    }

    /// <summary>Why job <paramref name="job"/> of a run on <paramref name="branch"/> does not get <paramref name="secret"/>.</summary>
    /// <param name="protectedLater">The branch is protected now but was not when the run was made (a retried old run).</param>
    public static string Refusal(string job, string secret, string branch, bool protectedLater = false) =>
        $"{Rule}: job '{job}' lists secret '{secret}', which is protected; protected values are given only to runs of protected " +
        (protectedLater
            ? $"branches and to deployments, and this run was made before branch '{branch}' was protected (its commit did not come " +
              "through the branch's merges): start a new run of the branch"
            : $"branches and to deployments, and branch '{branch}' is not protected");
}

namespace Slipway.Server.Git;

/// <summary>Why the origin refused a push Slipway made (a merge), in words that say what to do; git's own text follows.</summary>
public static class PushRefusal
{
    public static string Explain(string gitError, string branch)
    {
        if (gitError.Contains("branch is currently checked out", StringComparison.OrdinalIgnoreCase)
            || gitError.Contains("refusing to update checked out branch", StringComparison.OrdinalIgnoreCase))
            return $"the origin is a repository with a work tree that has '{branch}' checked out, and git refuses pushes into it; " +
                   "use a bare repository (git clone --bare) or set receive.denyCurrentBranch=updateInstead in it; retrying will not help";
        if (gitError.Contains("non-fast-forward", StringComparison.OrdinalIgnoreCase) || gitError.Contains("fetch first", StringComparison.OrdinalIgnoreCase)
            || gitError.Contains("stale info", StringComparison.OrdinalIgnoreCase))
            return $"'{branch}' moved at the origin meanwhile; try again";
        if (gitError.Contains("protected branch", StringComparison.OrdinalIgnoreCase) || gitError.Contains("pre-receive hook declined", StringComparison.OrdinalIgnoreCase))
            return $"the origin's own rules refuse pushes to '{branch}' (a protected branch or a hook there); let Slipway's credential push to it";
        if (gitError.Contains("Authentication failed", StringComparison.OrdinalIgnoreCase) || gitError.Contains("Permission", StringComparison.OrdinalIgnoreCase)
            || gitError.Contains("403", StringComparison.Ordinal))
            return "the origin refused Slipway's credential; check the project's git credential (slipway project set-credential)";
        return "the origin refused it";
    }
}

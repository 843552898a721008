namespace Slipway.Testing;

/// <summary>A real git repository in its own temp folder, driven through the git CLI.</summary>
public sealed class GitRepository : IDisposable
{
    public const string GitPath = "/usr/bin/git";

    // Isolate from the machine's and the user's git config so tests behave the same everywhere.
    private static readonly IReadOnlyDictionary<string, string?> Env = new Dictionary<string, string?>
    {
        ["GIT_TERMINAL_PROMPT"] = "0",
        ["GIT_CONFIG_NOSYSTEM"] = "1",
        ["GIT_CONFIG_GLOBAL"] = "/dev/null",
    };

    private readonly TempDirectory _dir;

    private GitRepository(TempDirectory dir)
    {
        _dir = dir;
    }

    public string Path => _dir.Path;

    /// <summary>Creates an empty repository; <paramref name="initialBranch"/> null keeps git's default.</summary>
    public static GitRepository Create(string? initialBranch = "main")
    {
        var repo = new GitRepository(new TempDirectory("slipway-git"));
        try
        {
            if (initialBranch is null)
                repo.Run("init", "-q");
            else
                repo.Run("init", "-q", "--initial-branch", initialBranch);
            repo.Run("config", "user.name", "Slipway Tests");
            repo.Run("config", "user.email", "tests@slipway.invalid");
            repo.Run("config", "commit.gpgsign", "false");
            return repo;
        }
        catch
        {
            repo.Dispose();
            throw;
        }
    }

    /// <summary>Writes a file (creating folders); <paramref name="executable"/> sets mode 755, which git records.</summary>
    public void WriteFile(string relativePath, string content, bool executable = false)
    {
        var full = System.IO.Path.GetFullPath(System.IO.Path.Combine(Path, relativePath));
        if (!full.StartsWith(Path + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"{relativePath} is outside the repository", nameof(relativePath));
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        if (executable && !OperatingSystem.IsWindows())
            File.SetUnixFileMode(full,
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                UnixFileMode.GroupRead | UnixFileMode.GroupExecute |
                UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
    }

    /// <summary>Stages everything and commits (empty commits allowed); returns the full SHA.</summary>
    public string Commit(string message)
    {
        Run("add", "-A");
        Run("commit", "-q", "--allow-empty", "-m", message);
        return Head();
    }

    /// <summary>Creates a branch at HEAD without switching to it.</summary>
    public void CreateBranch(string name) => Run("branch", "--end-of-options", name);

    /// <summary>Switches to a branch (or detaches at a commit).</summary>
    public void Checkout(string name)
    {
        // git 2.39's checkout mishandles --end-of-options, so refuse option-like names instead.
        if (name.StartsWith('-'))
            throw new ArgumentException("A ref name cannot start with '-'", nameof(name));
        // The trailing "--" makes git read the name as a ref, never as a path.
        Run("checkout", "-q", name, "--");
    }

    public string Head() => Run("rev-parse", "HEAD").Trim();

    /// <summary>Runs git in the repository and returns stdout; throws with stderr on a non-zero exit.</summary>
    public string Run(params string[] args)
    {
        var result = ProcessRunner.Run(GitPath, args, Path, Env);
        if (result.ExitCode != 0)
            throw new InvalidOperationException(
                $"git {string.Join(' ', args)} exited with {result.ExitCode}: {result.StdErr.Trim()}");
        return result.StdOut;
    }

    public override string ToString() => Path;

    public void Dispose() => _dir.Dispose();
}

namespace Slipway.Server.Tests.Sandbox;

/// <summary>
/// A hostile job, as a developer's branch would carry it: a script that tries every way the security review found to
/// reach the server's data, its key ring, database and hosted repositories, other jobs, the agent's credential, home
/// folders and the server process itself. Each try prints <c>blocked: WHAT</c> or <c>LEAK: WHAT</c>; writes are also
/// checked from outside by the tests (a write may land on the sandbox's own empty stand-in for a folder).
/// Targets come in as environment variables from the pipeline file, never as shell text.
/// </summary>
public static class HostileJob
{
    /// <summary>The attempts the script makes (each prints one line).</summary>
    public static readonly string[] Attempts =
    [
        "read the admin token file", "read the database", "copy the database", "read the key ring", "list the data folder",
        "move a hosted repository's branch", "write into the data folder", "list other jobs' workspaces", "read the source cache",
        "read the agent credential", "read the server's environment", "read through the server's root", "signal the server",
        "see the server's processes", "inherit a descriptor into the data folder", "list root's home", "read a CLI token",
        "write into the repository on disk", "write outside the workspace", "gain privileges", "read another job's secret",
    ];

    public const string Script = """
        #!/bin/bash
        # Every try runs in a subshell; its success is a leak. Paths come from the environment only.
        set +e
        export MAIN=$$
        try() { local what="$1"; shift; if ( "$@" ) >/dev/null 2>&1; then echo "LEAK: $what"; else echo "blocked: $what"; fi; }
        nonempty() { [ -n "$(ls -A "$1" 2>/dev/null)" ]; }
        only_own_workspace() { [ "$(ls -A "$JOBS" 2>/dev/null | grep -v -x -F "$(basename "$(dirname "$PWD")")")" != "" ]; }
        echo "running as $(id -un 2>/dev/null || id -u) in $PWD"
        try "read the admin token file" cat "$DATA/initial-admin-token"
        try "read the database" head -c 16 "$DATA/slipway.db"
        try "copy the database" cp "$DATA/slipway.db" ./stolen.db
        try "read the key ring" sh -c 'cat "$DATA"/keys/*.xml'
        try "list the data folder" sh -c '[ -n "$(ls -A "$DATA" | grep -v -x agent)" ]'
        try "move a hosted repository's branch" git --git-dir="$DATA/hosted/shop.git" update-ref refs/heads/main "$SLIPWAY_COMMIT"
        try "write into the data folder" sh -c 'echo pwned > "$DATA/pwned" && [ -s "$DATA/slipway.db" ]'
        try "list other jobs' workspaces" only_own_workspace
        try "read the source cache" nonempty "$WORK/source-cache"
        try "read the agent credential" cat "$WORK/credential.json"
        try "read the server's environment" cat "/proc/$SERVER_PID/environ"
        try "read through the server's root" cat "/proc/$SERVER_PID/root$DATA/initial-admin-token"
        try "signal the server" kill -0 "$SERVER_PID"
        try "see the server's processes" sh -c '[ "$(ls /proc | grep -c "^[0-9]")" -gt 12 ]'
        try "inherit a descriptor into the data folder" sh -c 'for fd in /proc/$MAIN/fd/*; do readlink "$fd"; done | grep -q -e slipway.db -e /keys/ -e credential.json -e socket:'
        try "list root's home" nonempty /root
        try "read a CLI token" sh -c 'cat /root/.config/slipway/config.json || cat "$OWNER_HOME/.config/slipway/config.json"'
        try "write into the repository on disk" touch "$REPO/pwned"
        try "write outside the workspace" touch "$OUTSIDE/pwned"
        try "gain privileges" grep -q "^CapEff:[[:space:]]*0*[1-9a-f]" /proc/self/status
        try "read another job's secret" sh -c 'cat /proc/[0-9]*/environ 2>/dev/null | tr "\0" "\n" | grep -q "^VICTIM="'
        echo "hostile job done"
        """;

    /// <summary>The pipeline's <c>env:</c> lines that tell the script where the server's things are.</summary>
    public static string Env(string data, string work, int serverPid, string repo, string outside) => $"""
          DATA: "{data}"
          WORK: "{work}"
          JOBS: "{work}/jobs"
          SERVER_PID: "{serverPid}"
          REPO: "{repo}"
          OUTSIDE: "{outside}"
          OWNER_HOME: "{Environment.GetEnvironmentVariable("HOME") ?? "/root"}"
        """;

    /// <summary>Asserts the job's log shows every attempt blocked and none leaking.</summary>
    public static void AssertAllBlocked(string log)
    {
        Assert.Contains("hostile job done", log);
        Assert.DoesNotContain("LEAK:", log);
        foreach (var attempt in Attempts) Assert.Contains("blocked: " + attempt, log);
    }
}

using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Slipway.Contracts.Agents;

namespace Slipway.Agent.Execution.Rollout;

/// <summary>
/// Runs an <c>ansible</c> step's playbook (from the release's source, in the workspace) for the targets of a batch that
/// reached it. Slipway writes everything Ansible needs into a private temporary folder (mode 0700) and removes it after:
/// <list type="bullet">
/// <item>an inventory of the rollout's targets: groups by role, per host <c>ansible_host/port/user</c>, the target's
/// <c>SLIPWAY_TARGET</c>, <c>SLIPWAY_TARGET_HOST</c>, <c>SLIPWAY_BATCH</c> and its load balancer as <c>slipway_backend</c>/<c>slipway_server</c>;</item>
/// <item>the rollout's <c>SLIPWAY_*</c> values as extra variables (a JSON file, <c>-e @file</c>: no value is pasted into a command line);</item>
/// <item>a known_hosts file holding exactly the host keys Slipway's own SSH connections verified against the pins, with
/// strict host key checking, so Ansible's ssh trusts nothing else;</item>
/// <item>the private key (a passphrase is removed from a private copy by <c>ssh-keygen -p</c>, fed through SSH_ASKPASS).</item>
/// </list>
/// Output is Ansible's JSON lines (<c>ansible.posix.jsonl</c>): each task result is logged under its target, and the
/// final per-host statistics decide each target's result.
/// </summary>
internal sealed class AnsibleRunner(Workspace workspace, RolloutJob rollout, SshCredentials credentials, Func<string?, string, Task> log)
{
    public const string Program = "ansible-playbook";
    private const string Callback = "ansible.posix.jsonl";
    private const int MaxOutputLines = 20;

    /// <summary>The full path of ansible-playbook on this agent's PATH, or null.</summary>
    public static string? Find()
    {
        foreach (var dir in (System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, Program);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    public static string NotInstalled =>
        $"'{Program}' is not installed on the deploy agent: install Ansible there (Debian: apt-get install ansible)";

    public async Task<IReadOnlyDictionary<string, string?>> RunAsync(RolloutStepSpec step, IReadOnlyList<AnsibleBatch.ArrivedTarget> arrived, CancellationToken ct)
    {
        var program = Find() ?? throw new InvalidOperationException(NotInstalled);
        var playbook = workspace.SafePath(step.Playbook!);
        if (!File.Exists(playbook)) throw new InvalidOperationException($"the playbook '{step.Playbook}' is not in the release's source");
        // The key, known_hosts, inventory and values live in the job's own folder (private, and removed with the job's
        // leftovers when a killed agent starts again, so a key without its passphrase never outlives the job on disk);
        // ssh's ControlPath sockets need a short path (108 bytes): a private folder in /tmp, holding nothing secret.
        var dir = Directory.CreateDirectory(Path.Combine(workspace.Root, "ansible-" + Guid.NewGuid().ToString("N")[..8]),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var sockets = Directory.CreateTempSubdirectory("slw-cp-");
        var control = sockets.FullName;
        try
        {
            var key = await WriteKeyAsync(dir.FullName, ct);
            var knownHosts = Path.Combine(dir.FullName, "known_hosts");
            await File.WriteAllLinesAsync(knownHosts, arrived.Select(a => KnownHostsLine(a.Target, a.HostKey)), ct);
            var inventory = Path.Combine(dir.FullName, "inventory.json");
            await File.WriteAllTextAsync(inventory, Inventory().ToJsonString(), ct);
            var extraVars = Path.Combine(dir.FullName, "vars.json");
            await File.WriteAllTextAsync(extraVars, JsonSerializer.Serialize(rollout.Values), ct);

            var psi = new ProcessStartInfo(program)
            {
                WorkingDirectory = workspace.Source, UseShellExecute = false,
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            foreach (var a in new[] { "-i", inventory, "--limit", string.Join(',', arrived.Select(a => a.Target.Name)), "-e", "@" + extraVars,
                         "--forks", Math.Clamp(arrived.Count, 1, 50).ToString(System.Globalization.CultureInfo.InvariantCulture), playbook })
                psi.ArgumentList.Add(a);
            SetEnvironment(psi, dir.FullName, key, knownHosts, control);
            return await RunProcessAsync(psi, arrived, ct);
        }
        finally
        {
            await CloseControlMastersAsync(control);
            try { dir.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            try { sockets.Delete(recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>A fresh environment: nothing of the agent's own is passed on but PATH and the locale.</summary>
    private static void SetEnvironment(ProcessStartInfo psi, string dir, string key, string knownHosts, string control)
    {
        psi.Environment.Clear();
        psi.Environment["PATH"] = System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        psi.Environment["LANG"] = "C.UTF-8";
        psi.Environment["HOME"] = dir;
        psi.Environment["ANSIBLE_STDOUT_CALLBACK"] = Callback;
        psi.Environment["ANSIBLE_LOAD_CALLBACK_PLUGINS"] = "1";
        psi.Environment["ANSIBLE_NOCOLOR"] = "1";
        psi.Environment["ANSIBLE_RETRY_FILES_ENABLED"] = "0";
        psi.Environment["ANSIBLE_HOST_KEY_CHECKING"] = "1";
        psi.Environment["ANSIBLE_PIPELINING"] = "1";
        psi.Environment["ANSIBLE_LOCAL_TEMP"] = Path.Combine(dir, "tmp");
        psi.Environment["ANSIBLE_PRIVATE_KEY_FILE"] = key;
        psi.Environment["ANSIBLE_SSH_CONTROL_PATH_DIR"] = control;
        psi.Environment["ANSIBLE_SSH_CONTROL_PATH"] = "%(directory)s/%%C";
        psi.Environment["ANSIBLE_SSH_ARGS"] = string.Join(' ',
            "-o ControlMaster=auto -o ControlPersist=30s",
            $"-o UserKnownHostsFile={knownHosts} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes",
            "-o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=10 -o ServerAliveInterval=15");
        psi.Environment["ANSIBLE_PYTHON_INTERPRETER"] = "auto_silent";
        psi.Environment["ANSIBLE_DEPRECATION_WARNINGS"] = "0";
    }

    private async Task<IReadOnlyDictionary<string, string?>> RunProcessAsync(ProcessStartInfo psi, IReadOnlyList<AnsibleBatch.ArrivedTarget> arrived, CancellationToken ct)
    {
        var names = arrived.Select(a => a.Target.Name).ToHashSet(StringComparer.Ordinal);
        var firstFailure = new Dictionary<string, string>(StringComparer.Ordinal);
        JsonObject? stats = null;
        var stderr = new StringBuilder();
        var clock = Stopwatch.StartNew();
        await log(null, $"ansible-playbook {Path.GetRelativePath(workspace.Source, psi.ArgumentList[^1])} --limit {psi.ArgumentList[3]}");
        using var process = System.Diagnostics.Process.Start(psi) ?? throw new InvalidOperationException($"{Program} did not start");
        process.StandardInput.Close();
        var errors = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is { } line)
                lock (stderr) if (stderr.Length < 20_000) stderr.AppendLine(line);
        });
        await using (ct.Register(() => { try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } }))
        {
            string? task = null;
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                JsonObject? evt;
                try { evt = JsonNode.Parse(line) as JsonObject; }
                catch (JsonException) { evt = null; }
                if (evt is null) { if (line.Trim().Length > 0) await log(null, "ansible: " + line); continue; }
                var kind = (string?)evt["_event"];
                if (kind == "v2_playbook_on_task_start") task = (string?)evt["task"]?["name"];
                else if (kind == "v2_playbook_on_stats") stats = evt["stats"] as JsonObject;
                else if (kind is not null && kind.StartsWith("v2_runner_", StringComparison.Ordinal) && evt["hosts"] is JsonObject hosts)
                    foreach (var (host, result) in hosts)
                        if (names.Contains(host) && result is JsonObject r)
                            await LogResultAsync(host, kind, task ?? "?", r, firstFailure);
            }
            await process.WaitForExitAsync(CancellationToken.None);
            await errors;
        }
        ct.ThrowIfCancellationRequested();
        var errorText = stderr.ToString();
        if (errorText.Contains("Invalid callback for stdout", StringComparison.Ordinal))
            throw new InvalidOperationException($"Ansible's JSON-lines output ({Callback}) is missing on the deploy agent: install Debian's 'ansible' package " +
                                                "(ansible-core alone lacks the ansible.posix collection)");
        await log(null, $"ansible-playbook exited with code {process.ExitCode} after {clock.Elapsed.TotalSeconds:0.0}s");
        return names.ToDictionary(n => n, n => Verdict(n, stats, firstFailure, process.ExitCode, errorText), StringComparer.Ordinal);
    }

    /// <summary>Null when Ansible's statistics show the host without failures; else why it failed.</summary>
    private static string? Verdict(string host, JsonObject? stats, Dictionary<string, string> firstFailure, int exitCode, string stderr)
    {
        if (stats?[host] is JsonObject s)
        {
            if (Count(s, "unreachable") > 0) return firstFailure.GetValueOrDefault(host) ?? "unreachable for Ansible";
            if (Count(s, "failures") > 0) return firstFailure.GetValueOrDefault(host) ?? "a task of the playbook failed";
            return null;
        }
        if (exitCode != 0)
            return $"ansible-playbook exited with code {exitCode}: {Tail(stderr)}";
        return "the playbook ran nothing on this target: does its 'hosts:' match it? (the inventory's groups are the targets' roles and 'all')";
    }

    private static int Count(JsonObject s, string name) => s[name] is JsonValue v && v.TryGetValue<int>(out var n) ? n : 0;

    private async Task LogResultAsync(string host, string kind, string task, JsonObject r, Dictionary<string, string> firstFailure)
    {
        var status = kind switch
        {
            "v2_runner_on_ok" or "v2_runner_item_on_ok" => r["changed"] is JsonValue c && c.TryGetValue<bool>(out var changed) && changed ? "changed" : "ok",
            "v2_runner_on_failed" or "v2_runner_item_on_failed" => r["ignore_errors"] is JsonValue i && i.TryGetValue<bool>(out var ignored) && ignored ? "failed (ignored)" : "FAILED",
            "v2_runner_on_unreachable" => "UNREACHABLE",
            "v2_runner_on_skipped" or "v2_runner_item_on_skipped" => "skipped",
            _ => null,
        };
        if (status is null) return;
        var message = (string?)r["msg"] is { Length: > 0 } msg ? msg : null;
        await log(host, $"ansible '{task}': {status}" + (message is not null && status != "ok" && status != "changed" ? $": {OneLine(message)}" : ""));
        foreach (var stream in new[] { "stdout", "stderr" })
            if ((string?)r[stream] is { Length: > 0 } text)
                foreach (var line in text.Split('\n').Take(MaxOutputLines))
                    await log(host, "  " + line);
        if (status is "FAILED" or "UNREACHABLE" && !firstFailure.ContainsKey(host))
            firstFailure[host] = $"ansible task '{task}' {(status == "FAILED" ? "failed" : "could not reach the host")}" +
                                 (message is not null ? $": {OneLine(message)}" : "") +
                                 ((string?)r["stderr"] is { Length: > 0 } err ? $" ({OneLine(err)})" : "");
    }

    private static string OneLine(string text)
    {
        var t = text.ReplaceLineEndings(" ").Trim();
        return t.Length > 300 ? t[..297] + "..." : t;
    }

    private static string Tail(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? "(no error output)" : OneLine(string.Join(" | ", lines.TakeLast(3)));
    }

    /// <summary>known_hosts names a non-standard port as [host]:port; port 22 as the plain host.</summary>
    private static string KnownHostsLine(RolloutTargetSpec t, string hostKey) =>
        (t.Port == 22 ? t.Host : $"[{t.Host}]:{t.Port}") + " " + hostKey;

    /// <summary>The rollout's targets (every batch, so a playbook may look at its peers), grouped by role.</summary>
    private JsonObject Inventory()
    {
        var hosts = new JsonObject();
        var groups = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var t in rollout.Targets)
        {
            var vars = new JsonObject
            {
                ["ansible_host"] = t.Host,
                ["ansible_port"] = t.Port,
                ["ansible_user"] = t.User,
                ["SLIPWAY_TARGET"] = t.Name,
                ["SLIPWAY_TARGET_HOST"] = t.Host,
                ["SLIPWAY_BATCH"] = t.Batch.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["slipway_backend"] = t.Backend,
                ["slipway_server"] = t.Server,
            };
            hosts[t.Name] = vars;
            foreach (var role in t.Roles ?? [])
            {
                if (!groups.TryGetValue(role, out var group)) groups[role] = group = new JsonObject { ["hosts"] = new JsonObject() };
                ((JsonObject)group["hosts"]!)[t.Name] = new JsonObject();
            }
        }
        var children = new JsonObject();
        foreach (var (role, group) in groups) children[role] = group;
        return new JsonObject { ["all"] = new JsonObject { ["hosts"] = hosts, ["children"] = children } };
    }

    /// <summary>The key as a file only its owner reads; a passphrase is taken off this private copy (ssh cannot be given one non-interactively).</summary>
    private async Task<string> WriteKeyAsync(string dir, CancellationToken ct)
    {
        var path = Path.Combine(dir, "id");
        var text = credentials.PrivateKey.ReplaceLineEndings("\n");
        await using (var file = new FileStream(path, new FileStreamOptions
                     {
                         Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                     }))
            await file.WriteAsync(Encoding.UTF8.GetBytes(text.EndsWith('\n') ? text : text + "\n"), ct);
        if (string.IsNullOrEmpty(credentials.Passphrase)) return path;

        var askpass = Path.Combine(dir, "askpass.sh");
        await File.WriteAllTextAsync(askpass, "#!/bin/sh\nprintf '%s\\n' \"$SLIPWAY_ASKPASS\"\n", ct);
        File.SetUnixFileMode(askpass, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        var psi = new ProcessStartInfo("/usr/bin/setsid") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "ssh-keygen", "-p", "-f", path, "-N", "" }) psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        psi.Environment["PATH"] = System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin";
        psi.Environment["SSH_ASKPASS"] = askpass;
        psi.Environment["SSH_ASKPASS_REQUIRE"] = "force";
        psi.Environment["SLIPWAY_ASKPASS"] = credentials.Passphrase;
        using var keygen = System.Diagnostics.Process.Start(psi) ?? throw new InvalidOperationException("ssh-keygen did not start");
        keygen.StandardInput.Close();
        var output = keygen.StandardOutput.ReadToEndAsync(ct);
        var error = keygen.StandardError.ReadToEndAsync(ct);
        await keygen.WaitForExitAsync(ct);
        await Task.WhenAll(output, error);
        File.Delete(askpass);
        if (keygen.ExitCode != 0)
            throw new InvalidOperationException("the SSH key's passphrase could not be removed for Ansible (wrong passphrase?)");
        return path;
    }

    /// <summary>Ansible leaves ssh master connections behind (ControlPersist); they are closed with the run.</summary>
    private static async Task CloseControlMastersAsync(string control)
    {
        if (!Directory.Exists(control)) return;
        foreach (var socket in Directory.GetFiles(control))
        {
            var psi = new ProcessStartInfo("ssh") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "-o", "ControlPath=" + socket, "-O", "exit", "slipway-control" }) psi.ArgumentList.Add(a);
            try
            {
                using var p = System.Diagnostics.Process.Start(psi);
                if (p is null) continue;
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await p.WaitForExitAsync(timeout.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or System.ComponentModel.Win32Exception) { }
        }
    }
}

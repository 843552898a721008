using System.Diagnostics;
using System.Globalization;
using Slipway.Contracts.Api;
using Slipway.Testing;

// Slipway's rolling deployment against the simulated hosts of ../shared/bench/ansible-lastmile (already set up by
// run.sh with setup.sh N): the same hosts, HAProxy, 5 MB payload and 25 % batches Ansible and the raw ssh floor use.
// Per repetition: reset the hosts (untimed), request a deployment of a prepared release, and take the server's own
// timestamps: requested -> finished (succeeded). Prints one line per run and "slipway N median min max".
//   dotnet slipway-bench-lastmile.dll N REPS
var n = int.Parse(args[0], CultureInfo.InvariantCulture);
var reps = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
const string B = "/tmp/lastmile-bench";

var fingerprint = Run("/usr/bin/ssh-keygen", "-lf", $"{B}/keys/ssh_host_ed25519_key.pub").Split(' ')[1];
var repo = GitRepository.Create("main");
CopyDirectory($"{B}/artifacts/src", Path.Combine(repo.Path, "payload"));
repo.WriteFile(".slipway.yml", $$"""
    stages:
      - name: build
        jobs:
          - name: pack
            run: mkdir -p dist && tar -C payload -czf dist/app.tar.gz .
            artifacts: [dist/app.tar.gz]
    release:
      branch: main
      version: "1.0.{run}"
    deploy:
      targets: app
      rolling: { window: 25% }
      steps:
        - upload: { from: pack/dist/app.tar.gz, to: "{{B}}/hosts/$SLIPWAY_TARGET/incoming/" }
        - ssh: |
            set -e
            d={{B}}/hosts/$SLIPWAY_TARGET; r="$d/releases/$SLIPWAY_RELEASE"
            mkdir -p "$r" && tar -xzf "$d/incoming/app.tar.gz" -C "$r" && echo "$SLIPWAY_RELEASE" > "$r/VERSION"
            ln -sfn "$r" "$d/.current.tmp" && mv -T "$d/.current.tmp" "$d/current"
            "$d/bin/svc.sh" restart
            test "$(curl -fsS "http://127.0.0.1:$((38000 + ${SLIPWAY_TARGET#h}))/VERSION")" = "$SLIPWAY_RELEASE"
    """);
repo.Commit("payload");

await using var server = await SlipwayTestServer.StartAsync(o => o.PollInterval = TimeSpan.FromHours(1));
var admin = server.Client;
await admin.CreateProjectAsync("bench", repo.Path, "main");
await admin.CreateEnvironmentAsync("bench", new EnvironmentRequest("production", 0, false, "build", [], 0, null, false, null));
await admin.SetEnvironmentVariableAsync("bench", "production", "SSH_PRIVATE_KEY", await File.ReadAllTextAsync($"{B}/keys/id_ed25519"), secret: true);
await admin.SetBalancerAsync("bench", "production", "lb", new BalancerRequest("haproxy", $"{B}/run/haproxy.sock", 1, "10s"));
for (var i = 1; i <= n; i++)
    await admin.AddTargetAsync("bench", "production", new TargetRequest($"h{i}", "127.0.0.1", 32200 + i, "root", ["app"], $"app/h{i}", fingerprint, null));

// The releases, built before any timing.
var releases = new List<string>();
for (var r = 0; r < reps; r++)
{
    repo.WriteFile("REV", r.ToString(CultureInfo.InvariantCulture));
    var sha = repo.Commit($"rev {r}");
    await server.Service<ChangeDetector>().CheckAsync((await server.Service<ProjectStore>().FindAsync("bench"))!);
    releases.Add((await Eventually.ValueAsync(async () => (await admin.ListReleasesAsync("bench")).FirstOrDefault(x => x.Commit == sha),
        TimeSpan.FromMinutes(2), "release")).Version);
}

var seconds = new List<double>();
foreach (var version in releases)
{
    Run("/bin/bash", $"{B}/reset.sh", n.ToString(CultureInfo.InvariantCulture));
    await Task.Delay(1000);
    var d = await admin.DeployAsync("bench", version, "production");
    d = await Eventually.ValueAsync(async () =>
    {
        var x = await admin.GetDeploymentAsync("bench", d.Number);
        return x.State is "succeeded" or "failed" or "cancelled" or "unknown" ? x : null;
    }, TimeSpan.FromMinutes(10), "deployment");
    if (d.State != "succeeded") { Console.Error.WriteLine($"deployment #{d.Number} {d.State}: {d.Outcome}"); return 1; }
    var took = (d.FinishedAt!.Value - d.RequestedAt).TotalSeconds;
    var started = (d.StartedAt!.Value - d.RequestedAt).TotalSeconds;
    var verify = Run("/bin/bash", "-c", $". {B}/lib.sh; verify_deploy {n} {version}").Trim();
    seconds.Add(took);
    if (Environment.GetEnvironmentVariable("BENCH_LOG") == "1" && d.RunId is { } run)
        Console.WriteLine((await admin.GetLogAsync(run, "deploy", 0, 1_000_000)).Text);
    Console.WriteLine($"slipway-run N={n} release={version} seconds={took:0.000} (started after {started:0.000} s) verify={verify}");
    if (verify != "ok") return 1;
}
seconds.Sort();
var median = seconds.Count % 2 == 1 ? seconds[seconds.Count / 2] : (seconds[seconds.Count / 2 - 1] + seconds[seconds.Count / 2]) / 2;
Console.WriteLine(FormattableString.Invariant($"slipway {n} {median:0.000} {seconds[0]:0.000} {seconds[^1]:0.000} {seconds.Count}"));
repo.Dispose();
return 0;

static string Run(string file, params string[] arguments)
{
    var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var a in arguments) psi.ArgumentList.Add(a);
    using var p = Process.Start(psi)!;
    var output = p.StandardOutput.ReadToEnd();
    var error = p.StandardError.ReadToEnd();
    p.WaitForExit();
    if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', arguments)}: exit {p.ExitCode}: {error}{output}");
    return output;
}

static void CopyDirectory(string from, string to)
{
    Directory.CreateDirectory(to);
    foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    foreach (var d in Directory.GetDirectories(from)) CopyDirectory(d, Path.Combine(to, Path.GetFileName(d)));
}

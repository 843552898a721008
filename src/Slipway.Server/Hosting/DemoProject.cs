using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Slipway.Core.Environments;

namespace Slipway.Server.Hosting;

/// <summary>
/// The demo project of the README's first command: a small git repository made in DATA/demo-repo
/// (a tiny bash calculator with real unit tests writing a JUnit report, a lint step, an acceptance
/// stage using the build's artifact), registered as project "demo". Its first run starts by itself; the rest of the
/// talk's flow (a work item, its branch, change request, release and staging deployment) is played by
/// <see cref="DemoStory"/> in the background once the server listens.
/// </summary>
public static class DemoProject
{
    public const string Name = "demo";

    public static async Task EnsureAsync(IServiceProvider services, ILogger log)
    {
        var options = services.GetRequiredService<ServerOptions>();
        if (await services.GetRequiredService<ProjectStore>().FindAsync(Name) is not null) return;
        var repo = Path.Combine(options.FullDataDirectory, "demo-repo");
        if (Directory.Exists(repo)) Directory.Delete(repo, recursive: true);
        Directory.CreateDirectory(repo);
        foreach (var (path, content) in Files)
        {
            var full = Path.Combine(repo, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            await File.WriteAllTextAsync(full, content.Replace("\r\n", "\n"));
            if (path.EndsWith(".sh")) File.SetUnixFileMode(full, (UnixFileMode)0b111_101_101);
        }
        var t = options.GitTimeout;
        await GitCli.OutputAsync(repo, ["init", "--quiet", "--initial-branch=main"], t);
        await GitCli.OutputAsync(repo, ["add", "--all"], t);
        await GitCli.OutputAsync(repo, ["-c", "user.name=Slipway Demo", "-c", "user.email=demo@slipway.invalid", "commit", "--quiet", "-m", "Demo: a tiny calculator with tests"], t);
        var project = await services.GetRequiredService<ProjectService>().CreateFromFolderAsync(Name, repo, "main");
        // The talk's lifecycle: each release reaches staging by itself; production takes an analyst's promotion and
        // another analyst's approval. Both run on the embedded agent's pool here; give production its own in earnest.
        var environments = services.GetRequiredService<EnvironmentStore>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow().ToUnixTimeMilliseconds();
        await environments.SaveAsync(project.Id, new EnvironmentSettings("staging", 0, false, "build", [], 0, null, true, QueuePolicy.OldestFirst), true, "demo", now);
        await environments.SaveAsync(project.Id, new EnvironmentSettings("production", 1, false, "build", ["role:analyst", "role:admin"], 1, "analyst", false,
            QueuePolicy.OldestFirst), true, "demo", now);
        // Production's quality gates: staging's verify step passed, its performance test stayed fast, and an analyst
        // signed the release off after a UAT showcase on staging (docs/gates.md).
        var gates = services.GetRequiredService<Gates.GateStore>();
        var production = (await environments.FindAsync(project.Id, "production"))!;
        foreach (var gate in DemoGates) await gates.AddAsync(production.Id, gate, "demo", now);
        log.LogInformation("created the demo project from {Repo}, with environments staging and production", repo);
    }

    public static readonly IReadOnlyList<Core.Gates.GateDefinition> DemoGates =
    [
        new(0, Core.Gates.GateKind.Verify, "staging", null, null, null),
        new(0, Core.Gates.GateKind.Metric, "staging", Core.Gates.MetricRuleParser.Parse("calc_duration p95 < 500 ms"), null, null),
        new(0, Core.Gates.GateKind.SignOff, "staging", null, "uat", Core.Access.BuiltInRoles.Analyst),
    ];

    private static readonly (string Path, string Content)[] Files =
    [
        (".slipway.yml", """
            # The demo pipeline: the talk's Commit phase, then an acceptance stage.
            env:
              APP_NAME: calc
            stages:
              - name: commit
                jobs:
                  - name: build
                    run: |
                      ./build.sh
                      ./test.sh
                    artifacts: [out/**]
                    reports: [test-results/*.xml]
                  - name: lint
                    run: bash -n build.sh test.sh calc.sh acceptance.sh && echo "syntax OK"
                    env: { STRICT: "1" }
              - name: acceptance
                when: { branches: [main, "release/*"] }
                jobs:
                  - name: integration
                    run: ./acceptance.sh
                    timeout: 10m
                    retry: 1
            # Green runs on main become releases; releases deploy to the project's environments (docs/environments.md).
            release:
              branch: main
              version: "0.1.{run}"
            deploy:
              run: echo "deploying $SLIPWAY_RELEASE to $SLIPWAY_ENVIRONMENT (previous ${SLIPWAY_PREVIOUS_RELEASE:-none})" && ls build
              # Smoke and performance test of what was deployed; its metrics gate production (docs/gates.md).
              verify: test "$(./calc.sh add 2 2)" = 4 && ./perf.sh
              metrics: perf/summary.json
              rollback: auto
            """),
        ("calc.sh", """
            #!/usr/bin/env bash
            # A tiny calculator: calc.sh add|mul A B
            set -eu
            add() { echo $(( $1 + $2 )); }
            mul() { echo $(( $1 * $2 )); }
            if [ "${BASH_SOURCE[0]}" = "$0" ]; then
              op=$1; shift
              case "$op" in add|mul) "$op" "$@" ;; *) echo "unknown operation: $op" >&2; exit 2 ;; esac
            fi
            """),
        ("build.sh", """
            #!/usr/bin/env bash
            set -eu
            mkdir -p out
            cp calc.sh out/calc
            chmod +x out/calc
            echo "built out/calc for $SLIPWAY_PROJECT at ${SLIPWAY_COMMIT:0:12}"
            """),
        ("test.sh", """
            #!/usr/bin/env bash
            # Unit tests; writes a JUnit report to test-results/unit.xml.
            set -u
            source ./calc.sh
            mkdir -p test-results
            cases=""; failures=0; count=0
            check() {
              local name=$1 expected=$2 actual=$3
              count=$((count + 1))
              if [ "$expected" = "$actual" ]; then
                echo "PASS $name"; cases+="<testcase classname=\"calc\" name=\"$name\"/>"
              else
                echo "FAIL $name: expected $expected, got $actual"; failures=$((failures + 1))
                cases+="<testcase classname=\"calc\" name=\"$name\"><failure message=\"expected $expected, got $actual\"/></testcase>"
              fi
            }
            check add_small 5 "$(add 2 3)"
            check add_negative -1 "$(add 2 -3)"
            check mul_small 6 "$(mul 2 3)"
            check mul_zero 0 "$(mul 7 0)"
            echo "<testsuite name=\"calc\" tests=\"$count\" failures=\"$failures\">$cases</testsuite>" > test-results/unit.xml
            [ "$failures" -eq 0 ]
            """),
        ("acceptance.sh", """
            #!/usr/bin/env bash
            # Acceptance: runs the built artifact from the commit stage end to end.
            set -eu
            result=$(./out/calc add 40 2)
            echo "calc add 40 2 = $result"
            [ "$result" = 42 ]
            echo "acceptance passed on branch $SLIPWAY_BRANCH"
            """),
        ("perf.sh", """
            #!/usr/bin/env bash
            # A small performance test: times 100 calculations and writes their latency in Slipway's plain metrics format.
            set -eu
            mkdir -p perf
            samples=$(for i in $(seq 1 100); do
              start=$(date +%s%N); ./calc.sh add "$i" 1 >/dev/null; end=$(date +%s%N)
              echo $(( (end - start) / 1000 ))
            done | sort -n)
            pick() { echo "$samples" | sed -n "$1p"; }
            printf '{"metrics": {"calc_duration": {"p50": %s, "p95": %s, "unit": "ms"}, "requests": {"count": 100}}}\n' \
              "$(awk "BEGIN { print $(pick 50) / 1000 }")" "$(awk "BEGIN { print $(pick 95) / 1000 }")" > perf/summary.json
            echo "calc p95: $(awk "BEGIN { print $(pick 95) / 1000 }") ms over 100 calculations"
            """),
        ("README.md", "# Slipway demo\n\nA tiny calculator whose pipeline is in `.slipway.yml`.\n"),
    ];
}

#!/usr/bin/env bash
# The one command that runs Slipway's whole test suite on a fresh Debian machine with the .NET 10 SDK.
# It installs missing system dependencies, builds once, runs every test project, and ends with
# a line "N passed, N failed, N skipped" (read by CI), exiting non-zero unless tests ran and all passed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

# Overridable only to try this script on part of the repository; CI always uses the whole solution.
TARGET="${SLIPWAY_TEST_TARGET:-Slipway.slnx}"

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# --- (a) system dependencies: git, a PostgreSQL server (tests start their own cluster), chromium
# (browser tests), procps, bubblewrap (the job sandbox every agent uses by default), openssh-server,
# haproxy and ansible (the last mile's simulated fleets and baseline). Only touch apt when something is actually missing: it is slow and needs root.
missing=()
command -v git >/dev/null 2>&1 || missing+=(git)
compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v ps >/dev/null 2>&1 || missing+=(procps)
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
# The last mile's tests start their own sshd and haproxy per simulated fleet (tests/Slipway.Testing/Fleet);
# ansible is the baseline the rollout is compared against.
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
{ command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ]; } || missing+=(haproxy)
command -v ansible-playbook >/dev/null 2>&1 || missing+=(ansible)
[ -x /usr/bin/curl ] || missing+=(curl)   # the simulated hosts' svc.sh waits for its service with curl
# The quality-gate tests drive a real load generator, autocannon, and the blob store tests a real S3-compatible
# server, s3rver: both installed from npm below.
{ { command -v autocannon && command -v s3rver; } >/dev/null 2>&1; } || command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing missing packages: ${missing[*]}"
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "error: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q "${missing[@]}"
fi

# The quality-gate tests drive a real load generator: autocannon (npm; its JSON report is one of the metrics formats).
if ! command -v autocannon >/dev/null 2>&1; then
    echo "Installing autocannon 9 from npm"
    # A registry hiccup must not stop the whole suite: only the load-test gate test needs it (and fails, saying so).
    npm install -g --no-audit --no-fund autocannon@9 >/dev/null || echo "warning: autocannon could not be installed; QualityGateTests' load test will fail" >&2
fi

# The S3 blob store's contract and end-to-end tests run against a real S3-compatible server: s3rver (npm, 3.7.1 is
# the version checked with the AWS SDK, see tests/Slipway.Testing/S3Server.cs).
if ! command -v s3rver >/dev/null 2>&1; then
    echo "Installing s3rver 3.7.1 from npm"
    npm install -g --no-audit --no-fund s3rver@3.7.1 >/dev/null || echo "warning: s3rver could not be installed; the S3 blob store tests will fail" >&2
fi

command -v dotnet >/dev/null 2>&1 || { echo "error: the .NET 10 SDK (dotnet) is not on PATH" >&2; exit 1; }

# --- results go to a temp folder unless the caller wants to keep them
if [ -n "${TEST_RESULTS_DIR:-}" ]; then
    results_dir="$TEST_RESULTS_DIR"
    mkdir -p "$results_dir"
else
    results_dir="$(mktemp -d "${TMPDIR:-/tmp}/slipway-test-results.XXXXXX")"
fi

# Test PostgreSQL clusters of this run live here (see PostgresServer.cs), so leftovers can be stopped
# below without touching clusters of any other run on the same machine. 755: the postgres user
# must be able to traverse it.
pg_parent="$(mktemp -d /tmp/slipway-pg-run.XXXXXX)"
chmod 755 "$pg_parent"
export SLIPWAY_TEST_PG_PARENT="$pg_parent"

cleanup() {
    rm -rf -- "$pg_parent"
    # Only ever delete a folder under the temp folder, never a caller-chosen path elsewhere.
    local tmp="${TMPDIR:-/tmp}"
    case "$results_dir" in
        "${tmp%/}"/*|/tmp/*) rm -rf -- "$results_dir" ;;
    esac
}
trap cleanup EXIT

# --- (b) build once; the test step reuses it (--no-build)
if ! dotnet build "$TARGET" -c Release; then
    echo "error: build failed" >&2
    echo "0 passed, 0 failed"
    exit 1
fi

# --- (c) run every test project; a hung test is killed after 10 minutes instead of eating the CI budget.
# One project at a time (-m:1): on 2 cores the server tests (1 GB of output, killed processes) running
# beside the browser tests starved Chromium past its timeouts now and then.
test_rc=0
dotnet test "$TARGET" -c Release --no-build -m:1 \
    --logger "trx;LogFilePrefix=results" \
    --results-directory "$results_dir" \
    --blame-hang-timeout "${SLIPWAY_TEST_HANG_TIMEOUT:-10m}" --blame-hang-dump-type none \
    || test_rc=$?

# A killed (hung or crashed) test host never disposes its PostgresServer: stop such leftover clusters
# (only those of this run).
for data_dir in "$pg_parent"/slipway-pg-*/data; do
    [ -f "$data_dir/postmaster.pid" ] || continue
    pg_ctl="$(compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' | sort -V | tail -1)"
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$pg_ctl" -D "$data_dir" -m immediate -w stop >/dev/null 2>&1 || true
    else
        "$pg_ctl" -D "$data_dir" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf -- "$(dirname "$data_dir")"
done

# --- (d) count outcomes from the <Counters .../> element of every .trx file (bash + awk only: a
# fresh machine may lack python). Timeouts, errors and aborts count as failures; tests listed but not
# executed (xunit's Skip, which the trx logger does not put in notExecuted) count as skipped.
read -r passed failed skipped files < <(
    find "$results_dir" -name '*.trx' -type f -print0 |
        xargs -0 -r cat |
        tr '\n' ' ' |
        grep -o '<Counters [^>]*>' |
        awk '
            function attr(name,   m) {
                if (match($0, " " name "=\"[0-9]+\"")) {
                    m = substr($0, RSTART, RLENGTH); gsub(/[^0-9]/, "", m); return m + 0
                }
                return 0
            }
            { n++; p += attr("passed"); f += attr("failed") + attr("error") + attr("timeout") + attr("aborted")
              s += attr("total") - attr("executed") }
            END { print p + 0, f + 0, s + 0, n + 0 }'
) || { passed=0; failed=0; skipped=0; files=0; }

status=0
if [ "$files" -eq 0 ] || [ $((passed + failed)) -eq 0 ]; then
    echo "error: no tests ran" >&2
    status=1
fi
if [ "$test_rc" -ne 0 ]; then
    echo "error: dotnet test exited with code $test_rc" >&2
    status=1
    # A hung or crashed test host leaves no failed result behind; count it so the line never reads
    # "0 failed" for a failing run.
    if [ "$failed" -eq 0 ]; then
        echo "error: counting the aborted test run as 1 failure" >&2
        failed=1
    fi
fi
[ "$failed" -eq 0 ] || status=1

echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"

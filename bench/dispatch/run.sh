#!/bin/bash
# Slipway dispatch benchmark, with Buildbot 3.7 as the peer, back to back on this machine.
#
#   bash bench/dispatch/run.sh                  # Slipway (embedded + separate agent), then Buildbot (~6 min), table
#   SKIP_PEER=1 bash bench/dispatch/run.sh      # Slipway only; the table uses Buildbot's README figures (labelled)
#   VARIANTS=embedded LATENCY_N=50 THROUGHPUT_N=200 LOG_REPS=3 bash bench/dispatch/run.sh
#   PEER_RESULTS=/tmp/ci-bench/results/<ts>/results.jsonl SKIP_PEER=1 ...   # compare with an earlier Buildbot run
#
# Everything listens on 127.0.0.1 only; every process started here is stopped by its PID.
# Output is copied to bench/dispatch/results-<date>.txt.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
STAMP=$(date +%Y%m%d-%H%M%S)
RAW=${RAW:-$HERE/results-$STAMP.txt}
JSON=${JSON:-/tmp/slipway-bench-$STAMP.json}
PEER_SRC=${PEER_SRC:-$ROOT/../shared/bench/buildbot}
PEER_DIR=/tmp/ci-bench

exec > >(tee "$RAW") 2>&1
echo "# Slipway dispatch benchmark, $(date -Is)"
echo "# host: $(uname -srm), $(nproc) cores, $(free -m | awk '/Mem:/{print $2}') MiB RAM, $(dotnet --version) SDK"
echo "# uptime at start: $(uptime)"

cd "$ROOT"
echo "## building Slipway (Release) and the bench"
dotnet build src/Slipway.Cli -c Release -nologo -v q 2>&1 | grep -E "error|Warn|Elapsed" || true
dotnet build bench/dispatch -c Release -nologo -v q 2>&1 | grep -E "error|Warn|Elapsed" || true
DLL=$ROOT/src/Slipway.Cli/bin/Release/net10.0/slipway.dll
BENCH=$ROOT/bench/dispatch/bin/Release/net10.0/slipway-bench-dispatch.dll
[ -f "$DLL" ] && [ -f "$BENCH" ] || { echo "build failed"; exit 1; }

echo "## Slipway"
dotnet "$BENCH" run --dll "$DLL" --out "$JSON" \
    --variants "${VARIANTS:-embedded,separate}" --latency-n "${LATENCY_N:-50}" \
    --throughput-n "${THROUGHPUT_N:-200}" --log-reps "${LOG_REPS:-3}" --gap-ms "${GAP_MS:-500}" --poll-ms "${POLL_MS:-5}"
echo "# uptime after Slipway: $(uptime)"

PEER=${PEER_RESULTS:-}
NOTE=""
if [ "${SKIP_PEER:-0}" != 1 ]; then
    echo "## Buildbot (peer): $PEER_SRC/run.sh, QUIET_MAX_WAIT=${QUIET_MAX_WAIT:-0}"
    mkdir -p "$PEER_DIR"
    cp -r "$PEER_SRC"/. "$PEER_DIR"/ && chmod -R u+w "$PEER_DIR"
    before=$(ls -1 "$PEER_DIR/results" 2>/dev/null | sort | tail -1 || true)
    if QUIET_MAX_WAIT=${QUIET_MAX_WAIT:-0} bash "$PEER_DIR/run.sh"; then
        latest=$(ls -1 "$PEER_DIR/results" | sort | tail -1)
        if [ -n "$latest" ] && [ "$latest" != "$before" ] && [ -s "$PEER_DIR/results/$latest/results.jsonl" ]; then
            PEER=$PEER_DIR/results/$latest/results.jsonl
        fi
    else
        echo "!! the Buildbot run failed; falling back to its README figures"
    fi
    echo "# uptime after Buildbot: $(uptime)"
elif [ -n "$PEER" ]; then
    NOTE="Buildbot run from an earlier session on this machine, not back to back with this Slipway run"
fi

echo "## comparison"
dotnet "$BENCH" compare --slipway "$JSON" ${PEER:+--peer "$PEER"} ${NOTE:+--peer-note "$NOTE"}
echo
echo "raw Slipway JSON: $JSON${PEER:+; Buildbot raw: $PEER}"
echo "output saved to $RAW"

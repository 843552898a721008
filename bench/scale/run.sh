#!/bin/bash
# Slipway at scale on PostgreSQL (issue 15, point 5): a seeded history of 100 000 runs and 10 000 deployments, page
# latencies on it, dispatch with 100 simulated agents on an empty vs the seeded database, and two nodes vs one.
#
#   bash bench/scale/run.sh                                   # defaults (~10 min on 2 cores)
#   RUNS=20000 DEPLOYMENTS=2000 AUDIT=100000 JOBS=1000 bash bench/scale/run.sh   # a quicker look
#
# Everything listens on 127.0.0.1 only; every process started here is stopped by its PID, also on failure.
# Output is copied to bench/scale/results-<date>.txt.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
STAMP=$(date +%Y%m%d-%H%M%S)
RAW=${RAW:-$HERE/results-$STAMP.txt}

exec > >(tee "$RAW") 2>&1
echo "# Slipway scale benchmark, $(date -Is)"
echo "# host: $(uname -srm), $(nproc) cores, $(free -m | awk '/Mem:/{print $2}') MiB RAM, $(dotnet --version) SDK"
echo "# uptime at start: $(uptime)"

cd "$ROOT"
echo "## building Slipway (Release) and the bench"
dotnet build src/Slipway.Cli -c Release -nologo -v q -nodeReuse:false 2>&1 | grep -E " error |Elapsed" || true
dotnet build bench/scale -c Release -nologo -v q -nodeReuse:false 2>&1 | grep -E " error |Elapsed" || true
BENCH=$ROOT/bench/scale/bin/Release/net10.0/slipway-bench-scale.dll
[ -f "$ROOT/src/Slipway.Cli/bin/Release/net10.0/slipway.dll" ] && [ -f "$BENCH" ] || { echo "build failed"; exit 1; }

dotnet "$BENCH" --projects "${PROJECTS:-20}" --runs "${RUNS:-100000}" --deployments "${DEPLOYMENTS:-10000}" \
    --audit "${AUDIT:-500000}" --agents "${AGENTS:-100}" --jobs "${JOBS:-2000}" --jobs-per-run "${JOBS_PER_RUN:-50}" --latency-n "${LATENCY_N:-50}" \
    --warmup "${WARMUP:-30}" --timed "${TIMED:-200}" --reps "${REPS:-1}" --pool "${POOL:-6}" ${POOL_OF_TWO:+--pool-of-two "$POOL_OF_TWO"} --warmup-batches "${WARMUP_BATCHES:-2}"
echo "# uptime at end: $(uptime)"
echo "output saved to $RAW"

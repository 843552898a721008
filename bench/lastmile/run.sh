#!/bin/bash
# Slipway's last mile against Ansible and the raw ssh/scp floor, in the same run, on the same simulated hosts
# (../shared/bench/ansible-lastmile: one sshd per host, a python service per host, HAProxy with its runtime socket,
# a ~5 MB release, 25 % batches, drain / enable around each host, a health check).
#
#   bash bench/lastmile/run.sh                     # N = 5 20 50, 3 repetitions each of Slipway, Ansible, raw
#   SIZES="20" REPS=1 bash bench/lastmile/run.sh   # a quick look
#   SKIP_PEER=1 bash bench/lastmile/run.sh         # Slipway only
#
# Ansible in its best configuration of the baseline (forks = N, ControlPersist + pipelining: "cp+pipe"); the floor
# is raw.sh with P = N (scp + one ssh per host). Slipway's time is the server's: deployment requested -> succeeded.
# Everything listens on 127.0.0.1; teardown.sh stops every process the peer scripts started, by PID.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PEER_SRC=${PEER_SRC:-$ROOT/../shared/bench/ansible-lastmile}
B=/tmp/lastmile-bench
SIZES=${SIZES:-5 20 50}
REPS=${REPS:-3}
STAMP=$(date +%Y%m%d-%H%M%S)
RAW_OUT=$HERE/results-$STAMP.txt

missing=()
for tool in ansible-playbook:ansible haproxy:haproxy /usr/sbin/sshd:openssh-server socat:socat curl:curl; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool##*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"; fi

exec > >(tee "$RAW_OUT") 2>&1
echo "# Slipway last-mile benchmark, $(date -Is)"
echo "# host: $(uname -srm), $(nproc) cores, $(dotnet --version) SDK, $(ansible --version | head -1), $(haproxy -v | head -1)"
echo "# uptime at start: $(uptime)"

[ -d "$B" ] || { mkdir -p "$B"; cp -r "$PEER_SRC"/. "$B"/; }
cleanup() { (cd "$B" && ./teardown.sh >/dev/null 2>&1) || true; }
trap cleanup EXIT

cd "$ROOT"
dotnet build bench/lastmile -c Release -nologo -v q 2>&1 | grep -E " error |rror\(s\)" || true
BENCH=$ROOT/bench/lastmile/bin/Release/net10.0/slipway-bench-lastmile.dll

declare -A RESULT
for n in $SIZES; do
    echo "## N=$n"
    (cd "$B" && ./setup.sh "$n" >/dev/null)
    line=$(dotnet "$BENCH" "$n" "$REPS" | tee /dev/stderr | grep "^slipway $n ")
    RESULT[slipway-$n]=$(echo "$line" | cut -d' ' -f3-5)
    if [ -z "${SKIP_PEER:-}" ]; then
        a=(); r=()
        for i in $(seq 1 "$REPS"); do
            a+=("$(cd "$B" && ./run.sh "$n" "$n" cp+pipe | tail -1)"); echo "ansible-run N=$n seconds=${a[-1]}"
            r+=("$(cd "$B" && ./raw.sh "$n" "$n" | tail -1)"); echo "raw-run N=$n seconds=${r[-1]}"
        done
        RESULT[ansible-$n]=$(printf '%s\n' "${a[@]}" | (. "$B/lib.sh"; stats) | cut -d' ' -f1-3)
        RESULT[raw-$n]=$(printf '%s\n' "${r[@]}" | (. "$B/lib.sh"; stats) | cut -d' ' -f1-3)
    fi
done

echo
echo "| N | Slipway median (min-max) s | Ansible cp+pipe, forks N | raw ssh/scp floor, P N | Ansible / Slipway | Slipway / floor |"
echo "| --- | --- | --- | --- | --- | --- |"
for n in $SIZES; do
    read -r sm smin smax <<<"${RESULT[slipway-$n]}"
    if [ -z "${SKIP_PEER:-}" ]; then
        read -r am amin amax <<<"${RESULT[ansible-$n]}"; read -r rm rmin rmax <<<"${RESULT[raw-$n]}"
        echo "| $n | $sm ($smin-$smax) | $am ($amin-$amax) | $rm ($rmin-$rmax) | $(awk -v a="$am" -v s="$sm" 'BEGIN{printf "%.2f", a/s}') | $(awk -v r="$rm" -v s="$sm" 'BEGIN{printf "%.2f", s/r}') |"
    else
        echo "| $n | $sm ($smin-$smax) | - | - | - | - |"
    fi
done
echo "# uptime at end: $(uptime)"

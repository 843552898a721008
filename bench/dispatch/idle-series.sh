#!/bin/bash
# Idle memory over minutes (issue 12): starts `slipway server` (SQLite, embedded agent, no project) on 127.0.0.1 and
# prints its VmRSS every 10 s for 6 minutes, then stops it by its PID.
#   dotnet build src/Slipway.Cli -c Release && bash bench/dispatch/idle-series.sh NAME PORT [ENV=VALUE...]
# SRC=<another checkout>/src measures another build. The series is printed and kept in /tmp/idle-series-NAME/series.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=${SRC:-$HERE/../../src}
name=$1; port=$2; shift 2
dir=/tmp/idle-series-$name
rm -rf "$dir"; mkdir -p "$dir"
env "$@" dotnet "$SRC/Slipway.Cli/bin/Release/net10.0/slipway.dll" server --data "$dir/data" --urls "http://127.0.0.1:$port" > "$dir/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for i in $(seq 1 36); do
  sleep 10
  echo "$((i * 10))s $(( $(awk '/VmRSS/{print $2}' /proc/$pid/status) / 1024 ))" | tee -a "$dir/series"
done
awk '{v=$2; s+=v; c++; if(min==""||v<min)min=v; if(v>max)max=v} END{printf "mean %.1f MiB, min %d, max %d over %d samples\n", s/c, min, max, c}' "$dir/series"

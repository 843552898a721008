#!/usr/bin/env bash
# The one command that starts a working Slipway on a fresh Debian machine with the .NET 10 SDK:
#   ./start.sh --demo            (any other 'slipway server' option works too: ./start.sh --help)
# It installs bubblewrap when missing (every job runs in its sandbox: docs/adr/0006-job-sandbox.md), then runs
# the server with its embedded SQLite database and embedded agent, data in ./.slipway.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Without the sandbox a job could read the server's data folder; the server refuses to start without it unless told
# --agent-sandbox none. Installing needs root: as root directly, else through sudo (which may ask for a password).
if ! command -v bwrap >/dev/null 2>&1 && [[ " $* " != *" --agent-sandbox none "* && " $* " != *" --agent-sandbox=none "* ]]; then
    echo "Installing bubblewrap (the job sandbox)..."
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "error: bubblewrap is not installed and installing it needs root: run 'apt-get install bubblewrap' as root," >&2
            echo "       or start without a job sandbox (jobs can then read the server's data): ./start.sh --agent-sandbox none" >&2
            exit 1
        fi
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -q
    "${sudo[@]}" apt-get install -y -q bubblewrap
fi

command -v dotnet >/dev/null 2>&1 || { echo "error: the .NET 10 SDK (dotnet) is not on PATH" >&2; exit 1; }
exec dotnet run -c Release --project src/Slipway.Cli -- server "$@"

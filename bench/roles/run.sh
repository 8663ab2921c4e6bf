#!/usr/bin/env bash
# Memory per gateway role and reload time (issue 12 item 7), in process on real files: see
# Egress.Roles.Measure/Program.cs. Prints the machine, load and date with the numbers.
# Usage: bench/roles/run.sh [ROLES] [TOKENS] [RUNS]     (defaults 100 1000 21)
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(uname -m), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
dotnet run -c Release --project bench/roles/Egress.Roles.Measure -- "$@"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

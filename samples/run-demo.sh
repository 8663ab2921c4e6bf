#!/usr/bin/env bash
# The README's main job: run a program (curl) under `egress-policy run` with one allowed destination
# (a local target on 127.0.0.1) and one denied destination (https://evil.example), then show the report
# and the summary. Needs only the .NET SDK and curl; no network is used (the denial happens in the proxy).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

echo "building egress-policy and a local target…" >&2
dotnet build src/Egress.Cli -c Release -v quiet -nologo >/dev/null
dotnet build bench/proxy/Egress.Proxy.LoadBenchmarks -c Release -v quiet -nologo >/dev/null
cli=(dotnet src/Egress.Cli/bin/Release/net10.0/egress-policy.dll)
target_dll=$(ls bench/proxy/Egress.Proxy.LoadBenchmarks/bin/Release/net10.0/Egress.Proxy.LoadBenchmarks.dll)

# The allowed destination: a small HTTP server on loopback that stops by itself after 120 s.
port=$(( 20000 + RANDOM % 20000 ))
dotnet "$target_dll" target --port "$port" --max-seconds 120 >/dev/null 2>&1 &
target_pid=$!
trap 'kill "$target_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -s -o /dev/null --noproxy '*' "http://127.0.0.1:$port/" && break
  sleep 0.1
done

summary=$(mktemp -d)/egress-summary.json
# Loopback is a special-purpose range, so only an IP token may allow it: 127.0.0.1 is allowed, nothing else.
set +e
EGRESS_ALLOWLIST="127.0.0.1" "${cli[@]}" run --summary-out "$summary" -- sh -c "
  curl -sS -o /dev/null -w 'allowed  http://127.0.0.1:$port/  -> HTTP %{http_code}\n' http://127.0.0.1:$port/
  curl -sS -o /dev/null -w 'denied   https://evil.example/  -> proxy answered %{http_connect}\n' https://evil.example/ 2>/dev/null
  exit 0"
code=$?
set -e
echo "egress-policy run exited $code; summary: $summary" >&2
grep -E '"(allowed_total|blocked_total)"' "$summary" >&2

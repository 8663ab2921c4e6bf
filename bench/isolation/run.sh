#!/usr/bin/env bash
# Isolated `egress-policy run`: start-up with and without isolation (hyperfine), and keep-alive requests/s and
# bulk MB/s direct vs proxy-only vs through the relay (HTTP_PROXY inside the namespace) vs the transparent
# path (no proxy, redirected by nftables). Loopback only; the target stops by itself. Needs root (or
# unprivileged user namespaces), hyperfine, and Release builds of the CLI and the load generator:
#   dotnet build src/Egress.Cli -c Release && dotnet build bench/proxy/Egress.Proxy.LoadBenchmarks -c Release
# Usage: bench/isolation/run.sh [seconds-per-row]   (prints a Markdown section for docs/PERFORMANCE.md)
set -euo pipefail
cd "$(dirname "$0")/../.."
D=${1:-3}
CLI=(dotnet src/Egress.Cli/bin/Release/net10.0/egress-policy.dll)
LOAD=(dotnet bench/proxy/Egress.Proxy.LoadBenchmarks/bin/Release/net10.0/Egress.Proxy.LoadBenchmarks.dll)
T=$(( 21000 + RANDOM % 10000 )); B=$((T + 1)); P=$((T + 2))
"${LOAD[@]}" target --port "$T" --bulk-port "$B" --max-seconds 600 >/dev/null 2>&1 &
target=$!
EGRESS_LOG=0 EGRESS_ALLOWLIST=127.0.0.1 "${CLI[@]}" proxy --listen "127.0.0.1:$P" >/dev/null 2>&1 &
proxy=$!
trap 'kill $target $proxy 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -s -o /dev/null --noproxy '*' "http://127.0.0.1:$T/" && break; sleep 0.1; done
export EGRESS_LOG=0 EGRESS_ALLOWLIST=127.0.0.1
L=$(printf '%q ' "${LOAD[@]}")

row() { # name, command producing the load generator's line
  local out; out=$(eval "$2" 2>/dev/null | tail -1); echo "| $1 | $out |"
}

echo "### Isolated run ($(date -u +%Y-%m-%d), $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "Start-up of \`run -- true\` (JIT build through \`dotnet\`, hyperfine, warm cache):"
echo
hyperfine -N -w 2 -r 10 --export-markdown /dev/stdout \
  "${CLI[*]} run --isolation none -- true" \
  "${CLI[*]} run --isolation netns -- true" 2>/dev/null | sed 's/^/    /' | sed 's/^    //'
echo
# The Native AOT binary (what CI ships; .ci/run publishes it to artifacts/aot, or set AOT=path): the agent is a
# second start of the same binary, so this is the row the "isolation adds <= 20 ms" target is about.
AOT=${AOT:-artifacts/aot/egress-policy}
if [ -x "$AOT" ]; then
  echo "Start-up of \`run -- true\` (Native AOT binary $AOT, hyperfine, warm cache):"
  echo
  hyperfine -N -w 5 -r 50 --export-markdown /dev/stdout \
    "$AOT run --isolation none -- true" \
    "$AOT run --isolation netns -- true" 2>/dev/null
  echo
else
  echo "(no Native AOT binary at $AOT: publish it with .ci/run's AOT step or bench/startup.sh for the AOT start-up rows)"
  echo
fi
echo "Keep-alive HTTP (16 connections, ${D} s) and bulk (256 MB, one connection):"
echo
echo "| path | keep-alive result |"
echo "|---|---|"
row "direct" "$L http --proxy direct --target 127.0.0.1:$T -c 16 -d $D"
row "proxy only" "$L http --proxy 127.0.0.1:$P --target 127.0.0.1:$T -c 16 -d $D"
row "run: relay (HTTP_PROXY)" "${CLI[*]} run -- bash -c '$L http --proxy \${HTTP_PROXY#http://} --target 127.0.0.1:$T -c 16 -d $D'"
row "run: transparent (no proxy)" "${CLI[*]} run -- $L http --proxy direct --target 127.0.0.1:$T -c 16 -d $D"
echo
echo "| path | bulk result |"
echo "|---|---|"
row "direct" "$L bulk --proxy direct --target 127.0.0.1:$B --mb 256"
row "proxy only (CONNECT)" "$L bulk --proxy 127.0.0.1:$P --target 127.0.0.1:$B --mb 256"
row "run: relay (CONNECT)" "${CLI[*]} run -- bash -c '$L bulk --proxy \${HTTP_PROXY#http://} --target 127.0.0.1:$B --mb 256'"
row "run: transparent" "${CLI[*]} run -- $L bulk --proxy direct --target 127.0.0.1:$B --mb 256"
echo
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

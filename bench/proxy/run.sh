#!/usr/bin/env bash
# Egress proxy benchmark: our proxy vs squid vs tinyproxy vs a direct connection, on loopback only.
# Rows: new CONNECT tunnels (one request each) and keep-alive plain HTTP at 1/16/64 clients (req/s, p50, p99),
# bulk MB/s through one tunnel, and proxy RSS with idle tunnels. Every run is bounded in time.
#
#   bench/proxy/run.sh                 # full run (~4 minutes), table on stdout and in artifacts/proxy-bench/
#   DURATION=2 IDLE="1000" bench/proxy/run.sh   # quicker
#
# Needs: dotnet, curl, python3, squid, tinyproxy (installed with apt-get when missing and running as root).
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

DURATION=${DURATION:-5}
CONCURRENCY=${CONCURRENCY:-"1 16 64"}
BULK_MB=${BULK_MB:-1024}
# A tunnel costs a proxy two descriptors; with the usual 20,000 hard limit 9,500 is the most that fits.
IDLE=${IDLE:-"1000 9500"}
PROXIES=${PROXIES:-"egress squid tinyproxy"}
BASE_PORT=${BASE_PORT:-18480}
OUT=${OUT:-artifacts/proxy-bench}

TARGET_PORT=$((BASE_PORT + 1)); BULK_PORT=$((BASE_PORT + 2))
declare -A PORT=([egress]=$((BASE_PORT + 3)) [squid]=$((BASE_PORT + 4)) [tinyproxy]=$((BASE_PORT + 5)))

need=()
command -v squid >/dev/null || need+=(squid)
command -v tinyproxy >/dev/null || need+=(tinyproxy)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
# Debian starts the packaged daemons on install; make sure they do not hold ports or CPU.
systemctl stop squid tinyproxy 2>/dev/null || true

mkdir -p "$OUT"
work=$(mktemp -d)
chmod 777 "$work"
results="$OUT/results.jsonl"
: > "$results"
declare -A PID=()
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "building (Release)…" >&2
dotnet build -c Release bench/proxy/Egress.Proxy.LoadBenchmarks -v q -nologo >/dev/null
LOAD=(dotnet bench/proxy/Egress.Proxy.LoadBenchmarks/bin/Release/net10.0/Egress.Proxy.LoadBenchmarks.dll)
# The proxy as shipped: the Native AOT binary (EGRESS_BIN=path to reuse one; EGRESS_JIT=1 for the JIT build).
if [ -n "${EGRESS_BIN:-}" ]; then
  CLI=("$EGRESS_BIN")
elif [ "${EGRESS_JIT:-0}" = 1 ]; then
  dotnet build -c Release src/Egress.Cli -v q -nologo >/dev/null
  CLI=(dotnet src/Egress.Cli/bin/Release/net10.0/egress-policy.dll)
else
  echo "publishing the Native AOT proxy (a few minutes the first time)…" >&2
  # The RID-specific restore goes to a lock file under obj/, leaving the committed packages.lock.json alone.
  dotnet publish src/Egress.Cli -c Release -r linux-x64 -p:PublishAot=true -p:NuGetLockFilePath=obj/packages.aot.lock.json -o "$OUT/aot" -v q -nologo >/dev/null
  CLI=("$OUT/aot/egress-policy")
fi

wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

"${LOAD[@]}" target --port "$TARGET_PORT" --bulk-port "$BULK_PORT" --max-seconds 1800 >/dev/null &
pids+=($!)

if [[ " $PROXIES " == *" egress "* ]]; then
  EGRESS_ALLOWLIST=127.0.0.1 "${CLI[@]}" proxy --listen "127.0.0.1:${PORT[egress]}" >"$work/egress.log" 2>&1 &
  PID[egress]=$!; pids+=($!)
fi

if [[ " $PROXIES " == *" squid "* ]]; then
  cat >"$work/squid.conf" <<CONF
http_port 127.0.0.1:${PORT[squid]}
acl loopback src 127.0.0.1
http_access allow loopback
http_access deny all
cache deny all
cache_mem 8 MB
access_log none
cache_log stdio:$work/squid-cache.log
pid_filename none
coredump_dir $work
max_filedescriptors 20000
via off
forwarded_for delete
shutdown_lifetime 1 seconds
CONF
  squid -N -f "$work/squid.conf" &
  PID[squid]=$!; pids+=($!)
fi

if [[ " $PROXIES " == *" tinyproxy "* ]]; then
  cat >"$work/tinyproxy.conf" <<CONF
User nobody
Group nogroup
Port ${PORT[tinyproxy]}
Listen 127.0.0.1
Timeout 600
MaxClients 20000
Allow 127.0.0.1
DisableViaHeader Yes
LogLevel Critical
LogFile "$work/tinyproxy.log"
CONF
  tinyproxy -d -c "$work/tinyproxy.conf" &
  PID[tinyproxy]=$!; pids+=($!)
fi

wait_port "$TARGET_PORT"
for p in $PROXIES; do wait_port "${PORT[$p]}"; done

target="127.0.0.1:$TARGET_PORT"
proxy_arg() { if [ "$1" = direct ]; then echo direct; else echo "127.0.0.1:${PORT[$1]}"; fi; }
record() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d.update(kind=sys.argv[2], proxy=sys.argv[3], clients=int(sys.argv[4])); print(json.dumps(d))' "$1" "$2" "$3" "$4" >>"$results"; }

echo "warm-up…" >&2
for p in $PROXIES; do
  "${LOAD[@]}" http --proxy "$(proxy_arg "$p")" --target "$target" -c 16 -d 2 >/dev/null
  "${LOAD[@]}" connect --proxy "$(proxy_arg "$p")" --target "$target" -c 16 -d 2 >/dev/null
done

for kind in connect http; do
  for c in $CONCURRENCY; do
    for p in $PROXIES direct; do
      echo "$kind c=$c $p" >&2
      record "$("${LOAD[@]}" "$kind" --proxy "$(proxy_arg "$p")" --target "$target" -c "$c" -d "$DURATION")" "$kind" "$p" "$c"
      sleep 1
    done
  done
done

for p in $PROXIES direct; do
  echo "bulk $p" >&2
  record "$("${LOAD[@]}" bulk --proxy "$(proxy_arg "$p")" --target "127.0.0.1:$BULK_PORT" --mb "$BULK_MB")" bulk "$p" 1
done

# RSS of a process and its descendants, in KiB.
tree_rss() {
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do
    total=$((total + $(awk '/VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

for p in $PROXIES; do
  base=$(tree_rss "${PID[$p]}")
  record "{\"rss_kib\":$base,\"open\":0}" idle "$p" 0
  for n in $IDLE; do
    echo "idle $p n=$n" >&2
    hold="$work/hold-$p-$n"
    "${LOAD[@]}" idle --proxy "$(proxy_arg "$p")" --target "$target" --count "$n" --hold-file "$hold" >"$work/idle.out" &
    idle_pid=$!
    for _ in $(seq 1 1200); do [ -s "$hold" ] && break; sleep 0.25; done
    sleep 2
    rss=$(tree_rss "${PID[$p]}")
    open=$(cat "$hold" 2>/dev/null || echo 0)
    rm -f "$hold"
    wait "$idle_pid" || true
    record "{\"rss_kib\":$rss,\"open\":$open}" idle "$p" "$n"
    sleep 3
  done
done

load=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$results" "$load" "$DURATION" <<'PY' | tee "$OUT/table.md"
import json, sys, collections
rows = [json.loads(l) for l in open(sys.argv[1])]
proxies = [p for p in ["egress", "squid", "tinyproxy", "direct"] if any(r["proxy"] == p for r in rows)]
by = {(r["kind"], r["proxy"], r["clients"]): r for r in rows}
print(f"Load average at the end (1/5/15 min): {sys.argv[2]}; {sys.argv[3]} s per row; loopback, 2 cores shared by load generator, proxy and target.\n")
for kind, title in [("connect", "New CONNECT tunnel + one request"), ("http", "Keep-alive plain HTTP")]:
    print(f"### {title}: requests/s (p50 / p99 ms)\n")
    print("| clients | " + " | ".join(proxies) + " |")
    print("|---:|" + "---:|" * len(proxies))
    for c in sorted({r["clients"] for r in rows if r["kind"] == kind}):
        cells = []
        for p in proxies:
            r = by.get((kind, p, c))
            cells.append("–" if r is None else f'{r["rps"]:,.0f} ({r["p50_ms"]:.2f} / {r["p99_ms"]:.2f})' + (f' err {r["errors"]}' if r["errors"] else ""))
        print(f"| {c} | " + " | ".join(cells) + " |")
    print()
print("### Bulk through one tunnel (MB/s)\n")
print("| " + " | ".join(proxies) + " |")
print("|" + "---:|" * len(proxies))
print("| " + " | ".join(f'{by[("bulk", p, 1)]["mb_per_s"]:,.0f}' if ("bulk", p, 1) in by else "–" for p in proxies) + " |\n")
idle = sorted({r["clients"] for r in rows if r["kind"] == "idle"})
if idle:
    ps = [p for p in proxies if p != "direct"]
    print("### Proxy memory (RSS MiB) with idle tunnels\n")
    print("| idle tunnels | " + " | ".join(ps) + " |")
    print("|---:|" + "---:|" * len(ps))
    for n in idle:
        cells = []
        for p in ps:
            r = by.get(("idle", p, n))
            cells.append("–" if r is None else f'{r["rss_kib"] / 1024:,.1f}' + ("" if r["open"] == n else f' ({r["open"]} open)'))
        print(f"| {n:,} | " + " | ".join(cells) + " |")
PY

#!/usr/bin/env bash
# Egress proxy benchmark: our proxy vs squid vs tinyproxy vs a direct connection, on loopback only.
# Rows: new CONNECT tunnels (one request each) and keep-alive plain HTTP at 1/16/64 clients (req/s, p50, p99,
# and the proxy's CPU time per request from /proc/PID/stat), bulk MB/s through one tunnel, and proxy RSS with
# idle and with stalled tunnels (the client asks for STALL_KIB KiB and never reads). All side by side in one run:
# egress (Native AOT), egress-tool (the same CLI under `dotnet`, as the dotnet tool runs), squid, tinyproxy,
# and direct. Ends with one table and a ratio line against the targets of issue 13. Every run is bounded in time.
#
#   bench/proxy/run.sh                 # full run (~4 minutes), table on stdout and in artifacts/proxy-bench/
#   DURATION=2 IDLE="1000" bench/proxy/run.sh   # quicker
#   ROUNDS=3 DURATION=3 bench/proxy/run.sh      # throughput rows three times, interleaved: cells are the median
#                                               # round, ratios are taken within each round (median, min–max)
#
# Needs: dotnet, curl, python3, squid, tinyproxy (installed with apt-get when missing and running as root).
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

DURATION=${DURATION:-5}
# Loopback throughput on a shared 2-core machine moves by a factor of two between minutes (direct included), so a
# ratio means something only within one round: each round runs every proxy and direct back to back.
ROUNDS=${ROUNDS:-1}
CONCURRENCY=${CONCURRENCY:-"1 16 64"}
BULK_MB=${BULK_MB:-1024}
# A tunnel costs a proxy two descriptors; with the usual 20,000 hard limit 9,500 is the most that fits.
IDLE=${IDLE:-"1000 9500"}
STALLED=${STALLED:-"1000 9500"}
STALL_KIB=${STALL_KIB:-256}
PROXIES=${PROXIES:-"egress egress-tool squid tinyproxy"}
BASE_PORT=${BASE_PORT:-18480}
OUT=${OUT:-artifacts/proxy-bench}

TARGET_PORT=$((BASE_PORT + 1)); BULK_PORT=$((BASE_PORT + 2)); SOCAT_PORT=$((BASE_PORT + 7))
declare -A PORT=([egress]=$((BASE_PORT + 3)) [squid]=$((BASE_PORT + 4)) [tinyproxy]=$((BASE_PORT + 5)) [egress-tool]=$((BASE_PORT + 6)))

need=()
command -v squid >/dev/null || need+=(squid)
command -v tinyproxy >/dev/null || need+=(tinyproxy)
command -v curl >/dev/null || need+=(curl)
# socat is no proxy: a plain TCP relay in C (read/write through a buffer), a reference for what any relay hop costs in bulk.
command -v socat >/dev/null || need+=(socat)
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
# The proxy as shipped: the Native AOT binary (EGRESS_BIN=path to reuse one), and the dotnet tool (JIT) beside it.
if [ -n "${EGRESS_BIN:-}" ]; then
  CLI=("$EGRESS_BIN")
else
  echo "publishing the Native AOT proxy (a few minutes the first time)…" >&2
  # The RID-specific restore goes to a lock file under obj/, leaving the committed packages.lock.json alone.
  dotnet publish src/Egress.Cli -c Release -r linux-x64 -p:PublishAot=true -p:NuGetLockFilePath=obj/packages.aot.lock.json -o "$OUT/aot" -v q -nologo >/dev/null
  CLI=("$OUT/aot/egress-policy")
fi
dotnet build -c Release src/Egress.Cli -v q -nologo >/dev/null
TOOL=(dotnet src/Egress.Cli/bin/Release/net10.0/egress-policy.dll)

wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

"${LOAD[@]}" target --port "$TARGET_PORT" --bulk-port "$BULK_PORT" --max-seconds 1800 >/dev/null &
pids+=($!)

if [[ " $PROXIES " == *" egress "* ]]; then
  EGRESS_ALLOWLIST=127.0.0.1 "${CLI[@]}" proxy --listen "127.0.0.1:${PORT[egress]}" >"$work/egress.log" 2>&1 &
  PID[egress]=$!; pids+=($!)
fi
if [[ " $PROXIES " == *" egress-tool "* ]]; then
  EGRESS_ALLOWLIST=127.0.0.1 "${TOOL[@]}" proxy --listen "127.0.0.1:${PORT[egress-tool]}" >"$work/egress-tool.log" 2>&1 &
  PID[egress-tool]=$!; pids+=($!)
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
record() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d.update(kind=sys.argv[2], proxy=sys.argv[3], clients=int(sys.argv[4]), cpu_ticks=int(sys.argv[5]), round=int(sys.argv[6])); print(json.dumps(d))' "$1" "$2" "$3" "$4" "${5:-0}" "${round:-1}" >>"$results"; }
# CPU time (user + system, clock ticks) of a process and its children so far.
cpu_ticks() {
  local total=0 p
  [ "$1" = direct ] && { echo 0; return; }
  for p in ${PID[$1]} $(pgrep -P "${PID[$1]}" || true); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

echo "warm-up…" >&2
for p in $PROXIES; do
  "${LOAD[@]}" http --proxy "$(proxy_arg "$p")" --target "$target" -c 16 -d 2 >/dev/null
  "${LOAD[@]}" connect --proxy "$(proxy_arg "$p")" --target "$target" -c 16 -d 2 >/dev/null
done

# The same bulk stream through socat, a TCP relay (no CONNECT, no policy) on the same 2 cores: what one extra
# hop costs when the relay is a small C program.
socat -b 262144 "TCP-LISTEN:$SOCAT_PORT,bind=127.0.0.1,reuseaddr,fork" "TCP:127.0.0.1:$BULK_PORT" &
PID[socat-relay]=$!; pids+=($!)
wait_port "$SOCAT_PORT"

for round in $(seq 1 "$ROUNDS"); do
  for kind in connect http; do
    for c in $CONCURRENCY; do
      for p in $PROXIES direct; do
        echo "round $round/$ROUNDS $kind c=$c $p" >&2
        before=$(cpu_ticks "$p")
        out=$("${LOAD[@]}" "$kind" --proxy "$(proxy_arg "$p")" --target "$target" -c "$c" -d "$DURATION")
        record "$out" "$kind" "$p" "$c" $(( $(cpu_ticks "$p") - before ))
        sleep 1
      done
    done
  done

  for p in $PROXIES direct; do
    echo "round $round/$ROUNDS bulk $p" >&2
    before=$(cpu_ticks "$p")
    out=$("${LOAD[@]}" bulk --proxy "$(proxy_arg "$p")" --target "127.0.0.1:$BULK_PORT" --mb "$BULK_MB")
    record "$out" bulk "$p" 1 $(( $(cpu_ticks "$p") - before ))
  done

  echo "round $round/$ROUNDS bulk socat-relay" >&2
  before=$(cpu_ticks socat-relay)
  out=$("${LOAD[@]}" bulk --proxy direct --target "127.0.0.1:$SOCAT_PORT" --mb "$BULK_MB")
  record "$out" bulk socat-relay 1 $(( $(cpu_ticks socat-relay) - before ))
done
round=1

# RSS of a process and its descendants, in KiB ($2 = RssAnon for the anonymous part only: heap, stacks,
# buffers — without the mapped program and libraries, which the kernel can drop and share).
tree_rss() {
  local total=0 p field=${2:-VmRSS}
  for p in $1 $(pgrep -P "$1" || true); do
    total=$((total + $(awk -v f="$field:" '$1 == f {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

# Holds N tunnels (idle, or stalled when $4 > 0), records the proxy's RSS, then lets them go.
hold_tunnels() {
  local p=$1 n=$2 kind=$3 stall=$4 dest=$target
  [ "$stall" -gt 0 ] && dest="127.0.0.1:$BULK_PORT"
  echo "$kind $p n=$n" >&2
  local hold="$work/hold-$p-$kind-$n"
  "${LOAD[@]}" idle --proxy "$(proxy_arg "$p")" --target "$dest" --count "$n" --hold-file "$hold" --stall-kib "$stall" >"$work/idle.out" &
  local idle_pid=$!
  for _ in $(seq 1 1200); do [ -s "$hold" ] && break; sleep 0.25; done
  sleep 3
  local rss open
  rss=$(tree_rss "${PID[$p]}")
  open=$(cat "$hold" 2>/dev/null || echo 0)
  rm -f "$hold"
  wait "$idle_pid" || true
  record "{\"rss_kib\":$rss,\"open\":$open}" "$kind" "$p" "$n"
  sleep 3
}

for p in $PROXIES; do
  sleep 2
  record "{\"rss_kib\":$(tree_rss "${PID[$p]}"),\"anon_kib\":$(tree_rss "${PID[$p]}" RssAnon),\"open\":0}" idle "$p" 0
  for n in $IDLE; do hold_tunnels "$p" "$n" idle 0; done
  for n in $STALLED; do hold_tunnels "$p" "$n" stalled "$STALL_KIB"; done
done

load=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$results" "$load" "$DURATION" "$STALL_KIB" <<'PY' | tee "$OUT/table.md"
import json, sys, os
rows = [json.loads(l) for l in open(sys.argv[1])]
hz = os.sysconf("SC_CLK_TCK")
proxies = [p for p in ["egress", "egress-tool", "squid", "tinyproxy", "direct"] if any(r["proxy"] == p for r in rows)]
bulk_columns = proxies + (["socat-relay"] if any(r["proxy"] == "socat-relay" for r in rows) else [])
rounds = max(r.get("round", 1) for r in rows)
runs = {}
for r in rows:
    runs.setdefault((r["kind"], r["proxy"], r["clients"]), {})[r.get("round", 1)] = r
def measure(r):
    return r.get("rps", r.get("mb_per_s", r.get("rss_kib", 0)))
# A cell is the median round of its row (by its own measure); with one round, that round.
by = {k: sorted(v.values(), key=measure)[(len(v) - 1) // 2] for k, v in runs.items()}
print(f"Load average at the end (1/5/15 min): {sys.argv[2]}; {sys.argv[3]} s per row"
      + (f", {rounds} rounds interleaved (each cell is the median round, the lower middle one for an even count; each ratio is taken within a round: median, min–max)" if rounds > 1 else "")
      + "; loopback, 2 cores shared by load generator, proxies and target.\n")
def cpu(r):
    return f' · {r["cpu_ticks"] / hz * 1e6 / r["requests"]:.0f} µs' if r.get("cpu_ticks") and r.get("requests") else ""
for kind, title in [("connect", "New CONNECT tunnel + one request"), ("http", "Keep-alive plain HTTP")]:
    print(f"### {title}: requests/s (p50 / p99 ms) · proxy CPU per request\n")
    print("| clients | " + " | ".join(proxies) + " |")
    print("|---:|" + "---:|" * len(proxies))
    for c in sorted({r["clients"] for r in rows if r["kind"] == kind}):
        cells = []
        for p in proxies:
            r = by.get((kind, p, c))
            cells.append("–" if r is None else f'{r["rps"]:,.0f} ({r["p50_ms"]:.2f} / {r["p99_ms"]:.2f})' + cpu(r) + (f' err {r["errors"]}' if r["errors"] else ""))
        print(f"| {c} | " + " | ".join(cells) + " |")
    print()
print("### Bulk through one tunnel (MB/s) · proxy CPU seconds\n")
print("| " + " | ".join(bulk_columns) + " |")
print("|" + "---:|" * len(bulk_columns))
print("| " + " | ".join((f'{by[("bulk", p, 1)]["mb_per_s"]:,.0f}' + (f' · {by[("bulk", p, 1)]["cpu_ticks"] / hz:.2f} s' if p not in ("direct", "socat-relay") else "")) if ("bulk", p, 1) in by else "–" for p in bulk_columns) + " |\n")
ps = [p for p in proxies if p != "direct"]
for kind, title in [("idle", "idle tunnels"), ("stalled", f"stalled tunnels ({sys.argv[4]} KiB requested, client never reads)")]:
    counts = sorted({r["clients"] for r in rows if r["kind"] == kind})
    if not counts:
        continue
    print(f"### Proxy memory (RSS MiB) with {title}\n")
    print("| tunnels | " + " | ".join(ps) + " |")
    print("|---:|" + "---:|" * len(ps))
    for n in counts:
        cells = []
        for p in ps:
            r = by.get((kind, p, n))
            cells.append("–" if r is None else f'{r["rss_kib"] / 1024:,.1f}' + ("" if r["open"] == n else f' ({r["open"]} open)'))
        print(f"| {n:,} | " + " | ".join(cells) + " |")
    print()
# The ratio line: egress (AOT) against the targets of issue 13.
def g(kind, p, c, key, rnd):
    r = runs.get((kind, p, c), {}).get(rnd)
    return None if r is None else r[key]
def spread(values, fmt="{:.2f}"):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = values[(len(values) - 1) // 2]
    return fmt.format(mid) + "×" + (f" ({fmt.format(values[0])}–{fmt.format(values[-1])})" if len(values) > 1 else "")
parts = []
for c in sorted({r["clients"] for r in rows if r["kind"] == "connect"}):
    ratios = []
    for rnd in range(1, rounds + 1):
        e = g("connect", "egress", c, "rps", rnd)
        best = max([v for v in (g("connect", "squid", c, "rps", rnd), g("connect", "tinyproxy", c, "rps", rnd)) if v] or [0])
        ratios.append(e / best if e and best else None)
    p99e, p99t = (by.get(("connect", p, c), {}).get("p99_ms") for p in ("egress", "tinyproxy"))
    if (text := spread(ratios)) and p99e is not None and p99t is not None:
        parts.append(f"connect c={c} {text} best peer (p99 {p99e:.2f} vs tinyproxy {p99t:.2f} ms)")
for c in sorted({r["clients"] for r in rows if r["kind"] == "http"}):
    ratios = []
    for rnd in range(1, rounds + 1):
        e, d = g("http", "egress", c, "rps", rnd), g("http", "direct", c, "rps", rnd)
        ratios.append(e / d if e and d else None)
    if c > 1 and (text := spread(ratios)):
        parts.append(f"keep-alive c={c} {text} direct")
bulk, relay = [], []
for rnd in range(1, rounds + 1):
    e, d, s = (g("bulk", p, 1, "mb_per_s", rnd) for p in ("egress", "direct", "socat-relay"))
    bulk.append(e / d if e and d else None)
    relay.append(s / d if s and d else None)
if text := spread(bulk):
    parts.append(f"bulk {text} direct" + (f" (socat relay {spread(relay)})" if spread(relay) else ""))
r0 = by.get(("idle", "egress", 0))
if r0:
    parts.append(f"RSS after load {r0['rss_kib'] / 1024:.1f} MiB" + (f" ({r0['anon_kib'] / 1024:.1f} MiB anonymous)" if r0.get("anon_kib") else ""))
st = [r for r in rows if r["kind"] == "stalled" and r["proxy"] == "egress" and r["open"]]
if st and r0:
    big = max(st, key=lambda r: r["clients"])
    parts.append(f"stalled {(big['rss_kib'] - r0['rss_kib']) / big['open']:.1f} KiB/tunnel at {big['open']:,}")
print("**Ratios (egress AOT):** " + "; ".join(parts) + "  ")
print("Targets: connect ≥ 1.2× best peer with p99 ≤ tinyproxy; keep-alive ≥ 0.5× direct at 16/64; bulk ≥ 0.95× direct; RSS after load ≤ 20 MiB; stalled ≤ 64 KiB/tunnel.")
PY

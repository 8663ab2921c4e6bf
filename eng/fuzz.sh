#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers with afl-fuzz and SharpFuzz (docs/fuzzing.md).
#
#   eng/fuzz.sh [--seconds N | --execs N] [--out DIR] [--parallel] [TARGET...]
#
# Publishes test/Egress.Fuzz, instruments Egress.Policy.dll, Egress.Proxy.dll and Egress.Isolation.dll in the publish folder
# (SharpFuzz.CommandLine, installed into artifacts/fuzz/tools), then runs afl-fuzz once per target on its
# seed corpus (test/Egress.Fuzz/corpus/TARGET). Default: every target for 5 seconds (the CI smoke), one after
# the other; --parallel runs them all at once (long runs).
# Prints one line per target (execs, execs/s, crashes, hangs) and exits 1 when any target saved a crash or
# a hang; the inputs are in OUT/TARGET/default/{crashes,hangs} — replay one (uninstrumented build) with
#   dotnet run --project test/Egress.Fuzz -c Release -- --replay TARGET FILE
set -euo pipefail
cd "$(dirname "$0")/.."

limit=(-V 5)
parallel=0
out="artifacts/fuzz/findings"
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) limit=(-V "$2"); shift 2 ;;
    --execs) limit=(-E "$2"); shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --parallel) parallel=1; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 1 ;;
    *) targets+=("$1"); shift ;;
  esac
done

command -v afl-fuzz >/dev/null || { echo "fuzz.sh: afl-fuzz not found (apt-get install afl++)" >&2; exit 1; }

bin="${FUZZ_BIN:-artifacts/fuzz/bin}"   # FUZZ_BIN: a separate folder lets a long run go on while a smoke builds
tools="artifacts/fuzz/tools"
sharpfuzz_version="2.3.0"   # the same version as the SharpFuzz package in Directory.Packages.props

if [ ! -x "$tools/sharpfuzz" ]; then
  dotnet tool install SharpFuzz.CommandLine --version "$sharpfuzz_version" --tool-path "$tools" >/dev/null
fi

# A fresh publish each time: sharpfuzz refuses an already instrumented assembly.
rm -rf "$bin"; mkdir -p "$(dirname "$bin")"
dotnet publish test/Egress.Fuzz -c Release -o "$bin" >"$bin.publish.log" 2>&1 \
  || { cat "$bin.publish.log"; echo "fuzz.sh: publish of test/Egress.Fuzz failed" >&2; exit 1; }
for dll in Egress.Policy.dll Egress.Proxy.dll Egress.Isolation.dll; do
  "$tools/sharpfuzz" "$bin/$dll" >/dev/null
done

if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(dotnet "$bin/Egress.Fuzz.dll" --list)
fi

# The target is `dotnet`, not an afl-instrumented binary; the fork server lives in SharpFuzz.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_QUIET=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export DOTNET_TieredPGO=0

fuzz_one() {
  local target="$1" corpus="test/Egress.Fuzz/corpus/$1" dict=() maxlen=()
  # The journal reader's cost grows with input length and afl grows inputs to hundreds of KB (≈200 execs/s);
  # a journal line is a few hundred bytes, so 16 KiB inputs still reach every reader state.
  [ "$target" = journal ] && maxlen=(-G 16384)
  rm -rf "${out:?}/$target"
  mkdir -p "$out/$target"
  [ -f "test/Egress.Fuzz/dictionaries/$target.dict" ] && dict=(-x "test/Egress.Fuzz/dictionaries/$target.dict")
  afl-fuzz -i "$corpus" -o "$out/$target" "${limit[@]}" "${maxlen[@]}" -t 10000 -m none "${dict[@]}" \
    -- dotnet "$bin/Egress.Fuzz.dll" "$target" >"$out/$target/afl.log" 2>&1
}

report() {
  local target="$1" stats="$out/$1/default/fuzzer_stats"
  if [ ! -f "$stats" ]; then
    tail -20 "$out/$target/afl.log"; echo "fuzz: $target: afl-fuzz failed (log above)" >&2; return 1
  fi
  get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
  local execs crashes hangs secs
  execs=$(get execs_done); crashes=$(get saved_crashes); hangs=$(get saved_hangs)
  secs=$(( $(get last_update) - $(get start_time) )); [ "$secs" -gt 0 ] || secs=1
  echo "fuzz: $target: $execs execs in ${secs}s ($(( execs / secs ))/s), $crashes crash(es), $hangs hang(s), $(get corpus_count) corpus entries"
  if [ "$crashes" != "0" ] || [ "$hangs" != "0" ]; then
    echo "fuzz: $target: FOUND inputs in $out/$target/default/crashes and hangs" >&2
    return 1
  fi
}

for target in "${targets[@]}"; do
  [ -d "test/Egress.Fuzz/corpus/$target" ] || { echo "fuzz.sh: no seed corpus test/Egress.Fuzz/corpus/$target" >&2; exit 1; }
done

failed=0
if [ "$parallel" = 1 ]; then
  for target in "${targets[@]}"; do fuzz_one "$target" & done
  wait
else
  for target in "${targets[@]}"; do fuzz_one "$target" || true; done
fi
for target in "${targets[@]}"; do report "$target" || failed=1; done
exit $failed

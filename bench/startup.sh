#!/usr/bin/env bash
# Start-up of `egress-policy --verify`: builds the Native AOT binary, the dotnet tool (packed, then installed
# into a local --tool-path from the local nupkg folder) and, for comparison, a ReadyToRun framework-dependent
# build, then times each with hyperfine. Writes the Markdown table to bench/results/startup.md.
#
# Needs: the .NET SDK, clang and zlib1g-dev (Native AOT linking), hyperfine (apt packages of those names).
# Usage: bench/startup.sh [--no-build]     (RUNS=N sets hyperfine's run count, default 100)
# On a busy machine the wall times inflate; the user+system CPU columns and the minimum show the cost.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
root=$PWD

for tool in hyperfine clang; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install hyperfine clang zlib1g-dev" >&2; exit 1; }
done

out="$root/artifacts/startup"
build=1
[ "${1:-}" = "--no-build" ] && build=0
[ $build -eq 1 ] && rm -rf "$out"
mkdir -p "$out" bench/results

# Runtime-specific restores write their own lock file under obj/ so the committed (RID-less) lock files stay
# as they are; the ILCompiler package version is fixed by the SDK.
rid_restore=(-p:RestoreLockedMode=false -p:NuGetLockFilePath=obj/packages.linux-x64.lock.json)

if [ $build -eq 1 ]; then
echo "== Native AOT publish"
dotnet publish src/Egress.Cli -c Release -r linux-x64 -p:PublishAot=true "${rid_restore[@]}" -o "$out/aot" -nologo -v q
echo "== ReadyToRun (framework-dependent) publish"
dotnet publish src/Egress.Cli -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true \
  "${rid_restore[@]}" -o "$out/r2r" -nologo -v q
echo "== dotnet tool: pack, then install into a local tool path"
dotnet pack src/Egress.Cli -c Release -o "$out/nupkg" -nologo -v q
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -1)
dotnet tool install EgressPolicy.Tool --version "$version" --tool-path "$out/tool" --source "$out/nupkg"
fi

aot="$out/aot/egress-policy"
r2r="$out/r2r/egress-policy"
tool="$out/tool/egress-policy"

# Run where no lock file is discovered, with the default allowlist, as a fresh CI job would.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
for exe in "$aot" "$r2r" "$tool"; do "$exe" --verify >/dev/null; done

# One hyperfine run per variant so that environment variables are set without an extra `env` process.
table="$root/bench/results/startup.md"
printf '| variant | wall mean ± σ [ms] | wall min [ms] | user [ms] | system [ms] |\n|---|---:|---:|---:|---:|\n' > "$table"
run() {
  local name=$1; shift
  local json="$work/one.json"
  env "$@" hyperfine -N --warmup 10 --runs "${RUNS:-100}" --export-json "$json" -n "$name" "${cmd} --verify" >&2
  python3 - "$json" >> "$table" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
ms = lambda s: f"{s * 1000:.1f}"
print(f"| {r['command']} | {ms(r['mean'])} ± {ms(r['stddev'])} | {ms(r['min'])} | {ms(r['user'])} | {ms(r['system'])} |")
PY
}

echo "== load before: $(uptime)" | tee "$root/bench/results/startup-load.txt"
cmd=$aot run "Native AOT"
cmd=$aot run "Native AOT, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1" DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
cmd=$tool run "dotnet tool"
cmd=$tool run "dotnet tool, DOTNET_TieredPGO=0" DOTNET_TieredPGO=0
cmd=$tool run "dotnet tool, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1" DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
cmd=$r2r run "ReadyToRun, framework-dependent"
cmd=$r2r run "ReadyToRun, framework-dependent, DOTNET_TieredPGO=0" DOTNET_TieredPGO=0
echo "== load after: $(uptime)" | tee -a "$root/bench/results/startup-load.txt"
cat "$table"

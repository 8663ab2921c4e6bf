#!/usr/bin/env bash
# Installs the egress-policy dotnet tool from this repository's source, without any public package feed.
#
#   bash eng/install-tool.sh                      # global tool (~/.dotnet/tools), Release build
#   bash eng/install-tool.sh --tool-path DIR      # into DIR (DIR/egress-policy), e.g. a CI job's temp dir
#   bash eng/install-tool.sh --output DIR         # also keep the .nupkg in DIR (e.g. to attach to a release)
#   bash eng/install-tool.sh --configuration Debug --no-build   # pack what is already built (tests use this)
#
# It packs src/Egress.Cli into a private folder and installs the package `egress-policy` from that folder
# ONLY, through a generated nuget.config whose sources are cleared: a package of the same name on a public
# feed (typosquatting, dependency confusion) can never be picked instead, whatever its version. An existing
# installation at the same place is replaced. Needs the .NET 10 SDK.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
configuration=Release
scope=(--global)
output=""
pack_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --global) scope=(--global); shift ;;
    --tool-path) [ $# -ge 2 ] || { echo "install-tool.sh: --tool-path needs a directory" >&2; exit 1; }
                 scope=(--tool-path "$2"); shift 2 ;;
    --output) [ $# -ge 2 ] || { echo "install-tool.sh: --output needs a directory" >&2; exit 1; }
              output="$2"; shift 2 ;;
    --configuration|-c) [ $# -ge 2 ] || { echo "install-tool.sh: --configuration needs Debug or Release" >&2; exit 1; }
                        configuration="$2"; shift 2 ;;
    --no-build) pack_args+=(--no-build); shift ;;
    -h|--help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-tool.sh: unknown option '$1' (see --help)" >&2; exit 1 ;;
  esac
done

work="$(mktemp -d "${TMPDIR:-/tmp}/egress-policy-install.XXXXXX")"
trap 'rm -rf "$work"' EXIT
feed="$work/feed"

dotnet pack "$root/src/Egress.Cli" -c "$configuration" -o "$feed" --nologo "${pack_args[@]}" >"$work/pack.log" 2>&1 \
  || { cat "$work/pack.log" >&2; echo "install-tool.sh: dotnet pack of src/Egress.Cli failed (log above)" >&2; exit 1; }

package="$(cd "$feed" && ls egress-policy.*.nupkg 2>/dev/null | head -n 1)"
[ -n "$package" ] || { echo "install-tool.sh: dotnet pack wrote no egress-policy.*.nupkg to $feed" >&2; exit 1; }
version="${package#egress-policy.}"
version="${version%.nupkg}"

cat >"$work/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="egress-policy-local" value="$feed" />
  </packageSources>
</configuration>
XML

# Replace an earlier installation at the same place (install refuses an installed tool of another version).
if [ "${scope[0]}" = "--global" ]; then
  dotnet tool uninstall egress-policy --global >/dev/null 2>&1 || true
else
  dotnet tool uninstall egress-policy --tool-path "${scope[1]}" >/dev/null 2>&1 || true
fi
dotnet tool install egress-policy --version "$version" --configfile "$work/nuget.config" "${scope[@]}"

if [ -n "$output" ]; then
  mkdir -p "$output"
  cp "$feed/$package" "$output/"
  echo "install-tool.sh: package kept at $output/$package"
fi

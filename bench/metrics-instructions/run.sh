#!/usr/bin/env bash
# Instruction counts of the metrics calls per decision (see README.md). Needs valgrind.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
cat > "$work/harness.csproj" <<PROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
  </PropertyGroup>
  <ItemGroup>
    <Reference Include="$root/src/Egress.Policy/bin/Release/net10.0/Egress.Policy.dll" />
    <Reference Include="$root/src/Egress.Telemetry/bin/Release/net10.0/Egress.Telemetry.dll" />
  </ItemGroup>
</Project>
PROJ
cp "$root/bench/metrics-instructions/Program.cs" "$work/"
dotnet build "$work" -c Release -o "$work/out" >/dev/null
export DOTNET_TieredCompilation=0
for spec in "allow none" "allow nolistener" "allow collector" "deny none" "deny nolistener" "deny collector"; do
  set -- $spec
  for n in 100000 300000; do
    ir=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$work/out/harness" "$2" "$n" "$1" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
    echo "$1 $2 $n $ir"
  done
done
rm -rf "$work"

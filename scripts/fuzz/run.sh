#!/usr/bin/env bash
# Fuzzes the ThingSet module with libFuzzer (swiftc -sanitize=fuzzer,address): the stream
# framer, the binary and text request parsers, the CBOR reader and the node.
#
# usage: scripts/fuzz/run.sh [SECONDS]   (default 30; a long run: scripts/fuzz/run.sh 3600)
# The seed corpus is scripts/fuzz/corpus-thingset (the spec's example requests); new inputs go
# to .build-fuzz/corpus, crashes to .build-fuzz/crash-*.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=${1:-30}
out=$root/.build-fuzz
mkdir -p "$out/corpus"
# shellcheck disable=SC2046
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name FuzzThingSet \
  $(find "$root/Sources/ThingSet" -name '*.swift' | sort) "$here/FuzzThingSet.swift" \
  -o "$out/fuzz-thingset" 2>&1 | grep -v "Cannot export local symbol" || true
"$out/fuzz-thingset" -max_total_time="$seconds" -max_len=512 -artifact_prefix="$out/" \
  "$out/corpus" "$here/corpus-thingset" 2>&1 | grep -E "^(#[0-9]+ +DONE|Done|==|SUMMARY|artifact)" || true
# libFuzzer exits non-zero and writes crash-* on a finding.
if ls "$out"/crash-* >/dev/null 2>&1; then
  echo "fuzz thingset: crash found: $(ls "$out"/crash-*)"
  exit 1
fi
echo "fuzz thingset: ${seconds} s, no crash"

#!/usr/bin/env bash
# Proves that the portable modules need neither a heap nor atomics nor libm: compiles each
# module as an Embedded module, then a driver that calls their entry points
# (LinkCheck.swift: BMSCore; LinkCheckSim.swift: a closed-loop PackSim run;
# LinkCheckPAYG.swift: the PAYG decoder; LinkCheckThingSet.swift: the ThingSet codec;
# LinkCheckInverter.swift: the inverter CAN frames), links each
# driver with --gc-sections and no libraries, and fails if an undefined symbol other than the
# Arm EABI helpers (soft-float, memcpy/memclr) and libgcc bit-count builtins remains. A malloc, free, posix_memalign (heap:
# Array, String, classes), __atomic_* (lazily initialised globals, refcounting on ARMv6-M)
# or a libm call (roundf, floorf, expf …) shows up here before it reaches a firmware image.
#
# usage: check.sh TRIPLE   (armv6m-none-none-eabi | armv7em-none-none-eabi)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
triple=$1
out=$root/.build-linkcheck/$triple
mkdir -p "$out"
tools=$(dirname "$(command -v swiftc)")
flags=(-enable-experimental-feature Embedded -target "$triple" -wmo -Osize -parse-as-library
       -Xfrontend -function-sections -Xfrontend -disable-stack-protector -I "$out")

module() {  # module NAME: compile Sources/NAME into out/NAME.o and its .swiftmodule
  # shellcheck disable=SC2046
  swiftc "${flags[@]}" -module-name "$1" -emit-module -emit-module-path "$out/$1.swiftmodule" \
    $(find "$root/Sources/$1" -name '*.swift' | sort) -c -o "$out/$1.o"
}

driver() {  # driver NAME OBJECTS...: compile scripts/embedded-link-check/NAME.swift, link, check
  local name=$1; shift
  swiftc "${flags[@]}" -module-name "$name" "$here/$name.swift" -c -o "$out/$name.o"
  "$tools/ld.lld" --gc-sections -e main --unresolved-symbols=ignore-all -Map "$out/$name.map" \
    -o "$out/$name.elf" "$out/$name.o" "$@"
  local undefined forbidden text
  undefined=$("$tools/llvm-nm" -u "$out/$name.elf" | awk '{print $2}')
  forbidden=$(printf '%s\n' "$undefined" | grep -Ev '^(__aeabi_[a-z0-9]+|__(clz|ctz|popcount)[sd]i2|memcpy|memset|memmove|)$' || true)
  text=$((16#$("$tools/llvm-objdump" -h "$out/$name.elf" | awk '$2 == ".text" {print $3}')))
  echo "$triple $name: .text = $text bytes; undefined: $(printf '%s ' $undefined)"
  if [ -n "$forbidden" ]; then
    echo "forbidden undefined symbols (heap, atomics or libc/libm beyond the EABI helpers):"
    printf '  %s\n' $forbidden
    return 1
  fi
}

module BMSCore
module AFE
module PackSim
module PAYG
module ThingSet
module Inverter
status=0
driver LinkCheck "$out/BMSCore.o" || status=1
driver LinkCheckSim "$out/PackSim.o" "$out/BMSCore.o" "$out/AFE.o" || status=1
driver LinkCheckPAYG "$out/PAYG.o" || status=1
driver LinkCheckThingSet "$out/ThingSet.o" || status=1
driver LinkCheckInverter "$out/Inverter.o" || status=1
exit $status

#!/usr/bin/env bash
# Proves that BMSCore needs neither a heap nor atomics nor anything but compiler helpers:
# compiles BMSCore with a driver that calls every entry point (LinkCheck.swift) as one
# Embedded module, links it with --gc-sections and no libraries, and fails if an undefined
# symbol other than the Arm EABI helpers (soft-float, memcpy/memclr) remains. A malloc,
# free, posix_memalign (heap: Array, String, classes) or __atomic_* (lazily initialised
# globals, refcounting on ARMv6-M) shows up here before it reaches a firmware image.
#
# usage: check.sh TRIPLE   (armv6m-none-none-eabi | armv7em-none-none-eabi)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
triple=$1
out=$root/.build-linkcheck/$triple
mkdir -p "$out"
tools=$(dirname "$(command -v swiftc)")

# shellcheck disable=SC2046
swiftc -enable-experimental-feature Embedded -target "$triple" -wmo -Osize -parse-as-library \
  -module-name LinkCheck -Xfrontend -function-sections -Xfrontend -disable-stack-protector \
  $(find "$root/Sources/BMSCore" -name '*.swift' | sort) "$here/LinkCheck.swift" \
  -c -o "$out/app.o"
"$tools/ld.lld" --gc-sections -e main --unresolved-symbols=ignore-all -Map "$out/app.map" \
  -o "$out/app.elf" "$out/app.o"

undefined=$("$tools/llvm-nm" -u "$out/app.elf" | awk '{print $2}')
forbidden=$(printf '%s\n' "$undefined" | grep -Ev '^(__aeabi_[a-z0-9]+|memcpy|memset|memmove|)$' || true)
text=$((16#$("$tools/llvm-objdump" -h "$out/app.elf" | awk '$2 == ".text" {print $3}')))
echo "$triple: BMSCore + driver .text = $text bytes; undefined: $(printf '%s ' $undefined)"
if [ -n "$forbidden" ]; then
  echo "forbidden undefined symbols (heap, atomics or libc beyond the EABI helpers):"
  printf '  %s\n' $forbidden
  exit 1
fi

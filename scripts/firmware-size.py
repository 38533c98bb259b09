#!/usr/bin/env python3
"""Sizes of the firmware images in .build-fw/ (called by scripts/firmware size).

For each <name>.elf (with its <name>.map from ld.lld -Map):
  flash_bytes       .isr_vector + .text + .rodata + .ARM.exidx + the load images of .data/.tdata
  ram_bytes         static_ram_bytes + stack_bytes
  static_ram_bytes  .data + .tdata + .tbss + .bss + .heap (the heap is 0: there is none)
  stack_bytes       the stack the linker script reserves (.stack)
  noinit_bytes      RAM kept across resets outside every section (the QEMU boards' flash mirror)
  modules           .text bytes per SwiftPM module / library, summed over the input objects
                    of the link map ("merged": constants lld merged across objects)
  modules_rodata    the same for .rodata
The toolchain has no llvm-size: section sizes come from llvm-objdump -h, symbols from llvm-nm.
"""
import argparse
import json
import os
import re
import subprocess
import sys

MODULES = ["BMSCore", "Firmware", "AFE", "PackSim", "ThingSet", "Inverter", "PAYG",
           "FirmwareImage", "Board", "libc", "libm", "libgcc"]
FLASH_SECTIONS = [".isr_vector", ".text", ".rodata", ".ARM.exidx", ".data", ".tdata"]
STATIC_RAM_SECTIONS = [".data", ".tdata", ".tbss", ".bss", ".heap"]


def sections(objdump, elf):
    out = subprocess.run([objdump, "-h", elf], check=True, capture_output=True, text=True).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0].isdigit():
            sizes[parts[1]] = int(parts[2], 16)
    return sizes


def symbols(nm, elf):
    out = subprocess.run([nm, elf], check=True, capture_output=True, text=True).stdout
    table = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            table[parts[2]] = int(parts[0], 16)
    return table


def module_of(path):
    m = re.search(r"/([A-Za-z0-9_]+)\.build/", path)
    if m:
        return m.group(1)
    for lib in ("libc", "libm", "libgcc"):
        if re.search(r"/%s\.a\(" % lib, path):
            return lib
    if path.startswith("<internal>"):
        return "merged"                      # lld's merged constants/strings of all objects
    return "other"


LINE = re.compile(r"\s*([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+(\d+)( +)(\S.*)$")


def modules_from_map(path):
    """Bytes per module in .text and .rodata, from the input-section lines of the map."""
    text, rodata = {m: 0 for m in MODULES}, {m: 0 for m in MODULES}
    out = None
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            size, indent, rest = int(m.group(3), 16), len(m.group(5)), m.group(6).strip()
            if indent == 1:                  # an output section
                out = rest.split()[0]
                continue
            if indent != 9 or ":(" not in rest:
                continue                     # symbols and assignments
            target = text if out == ".text" else rodata if out == ".rodata" else None
            if target is None:
                continue
            mod = module_of(rest.split(":(")[0])
            target[mod] = target.get(mod, 0) + size
    return text, rodata


def measure(tools, elf):
    name = os.path.basename(elf)[:-4]
    sizes = sections(os.path.join(tools, "llvm-objdump"), elf)
    syms = symbols(os.path.join(tools, "llvm-nm"), elf)
    flash = sum(sizes.get(s, 0) for s in FLASH_SECTIONS)
    static_ram = sum(sizes.get(s, 0) for s in STATIC_RAM_SECTIONS)
    stack = sizes.get(".stack", 0)
    noinit = syms.get("__noinit_end", 0) - syms.get("__noinit_start", 0)
    heap_symbols = sorted(s for s in ("malloc", "free", "posix_memalign", "calloc", "realloc") if s in syms)
    image = {
        "name": name,
        "flash_bytes": flash,
        "ram_bytes": static_ram + stack,
        "static_ram_bytes": static_ram,
        "stack_bytes": stack,
        "noinit_bytes": noinit,
        "sections": {s: sizes[s] for s in FLASH_SECTIONS + [".stack", ".tbss", ".bss", ".heap"] if s in sizes},
        "heap_allocator_linked": heap_symbols,
    }
    map_path = elf[:-4] + ".map"
    if os.path.exists(map_path):
        image["modules"], image["modules_rodata"] = modules_from_map(map_path)
    return image


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tools", required=True, help="directory with llvm-objdump and llvm-nm")
    ap.add_argument("--dir", required=True, help="directory with the <name>.elf/.map files")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    elves = sorted(os.path.join(args.dir, f) for f in os.listdir(args.dir) if f.endswith(".elf")) \
        if os.path.isdir(args.dir) else []
    if not elves:
        print("firmware size: no images in %s (run scripts/firmware build ...)" % args.dir, file=sys.stderr)
        return 1
    images = [measure(args.tools, e) for e in elves]
    if args.json:
        json.dump({"images": images}, sys.stdout, indent=2)
        print()
        return 0
    print("%-12s %9s %9s %9s %8s %8s" % ("image", "flash", "RAM", "static", "stack", "noinit"))
    for im in images:
        print("%-12s %9d %9d %9d %8d %8d" % (im["name"], im["flash_bytes"], im["ram_bytes"],
                                             im["static_ram_bytes"], im["stack_bytes"], im["noinit_bytes"]))
        if im["heap_allocator_linked"]:
            print("  heap: allocator linked: %s" % " ".join(im["heap_allocator_linked"]))
        if "modules" in im:
            parts = ["%s %d" % (k, v) for k, v in sorted(im["modules"].items(), key=lambda kv: -kv[1]) if v]
            print("  .text by module: " + ", ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())

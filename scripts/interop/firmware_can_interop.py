"""The firmware image's inverter frames, read by cantools (a peer we did not write) through the
DBC the project wrote from the spec.

The QEMU boards have no CAN controller, so the image prints each frame on its console as
`#can <ms> <ID> <data hex>`. This script turns those lines into a candump log, parses it with
cantools' log reader and decodes every frame. Checked, for the Victron profile of the
`inverter` scenario (a short circuit at 6 s):

- every frame is one of the profile's identifiers, at its length, and decodes;
- a complete set every second; no identifier faster than 200 ms;
- before the short, a discharge current limit above zero; from the first 0x351 after the
  trip, a discharge limit of zero; the charge voltage limit never zero;
- the short-circuit alarm of 0x35A "ok" (pair 10) before the trip and "active" (pair 01) after.

Usage: python firmware_can_interop.py CONSOLE_LOG
"""
import io
import os
import re
import sys
from collections import defaultdict

import cantools
import cantools.logreader

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from checks import Checks  # noqa: E402

DBC = cantools.database.load_file(os.path.join(HERE, "flexbms-inverter.dbc"))
check = Checks("firmware can")
VICTRON = {i: 8 for i in [0x351, 0x355, 0x356, 0x35A, 0x35E, 0x35F, 0x370, 0x371, 0x372, 0x373,
                          0x374, 0x375, 0x376, 0x377, 0x378, 0x379, 0x382]}

console = open(sys.argv[1]).read()
lines = re.findall(r"^#can (\d+) ([0-9A-F]{3}) ([0-9A-F]*)$", console, re.M)
trip = re.search(r"^#event t=([\d.]+) trip short_circuit", console, re.M)
check(trip is not None, "the short-circuit trip is on the console")
trip_s = float(trip.group(1)) if trip else 0.0
candump = "".join(f"({int(ms) / 1000:.6f}) can0 {ident}#{data}\n" for ms, ident, data in lines)

frames = []
unknown = 0
for _, frame in cantools.logreader.Parser(io.StringIO(candump)).iterlines(keep_unknowns=True):
    if frame is None:
        unknown += 1
        continue
    decoded = DBC.decode_message(frame.frame_id, frame.data, allow_truncated=True)
    frames.append((frame.timestamp.timestamp(), frame.frame_id, len(frame.data), decoded))
check(unknown == 0, f"{unknown} lines cantools could not read")
check(len(frames) > 150, f"{len(frames)} frames in 12 s")
bad = [(hex(i), n) for _, i, n, _ in frames if VICTRON.get(i) != n]
check(not bad, f"frames outside the Victron set or of the wrong length: {bad[:5]}")

by_id = defaultdict(list)
for t, i, _, d in frames:
    by_id[i].append((t, d))
check(set(by_id) == set(VICTRON), f"the whole set sent: {sorted(map(hex, by_id))}")
gaps = [b[0] - a[0] for v in by_id.values() for a, b in zip(v, v[1:])]
check(gaps and min(gaps) >= 0.2 - 1e-6 and max(gaps) <= 1.0 + 1e-6, f"same-ID gaps {min(gaps):.3f}..{max(gaps):.3f} s")
for second in range(1, 11):
    ids = {i for t, i, _, _ in frames if second <= t < second + 1}
    check(ids == set(VICTRON), f"a complete set in second {second}: {sorted(map(hex, ids))}")

limits = by_id[0x351]
before = [d for t, d in limits if t < trip_s]
after = [d for t, d in limits if t > trip_s]
check(before and all(d["DischargeCurrentLimit"] > 0 for d in before),
      f"discharge limit above zero before the short: {[d['DischargeCurrentLimit'] for d in before][:4]}")
check(after and all(d["DischargeCurrentLimit"] == 0 for d in after),
      f"discharge limit zero from the first 0x351 after the short: {[d['DischargeCurrentLimit'] for d in after][:4]}")
check(after and after[0] is not None and min(t for t, _ in limits if t > trip_s) - trip_s <= 1.0,
      "the first 0x351 after the trip within 1 s")
check(all(d["ChargeVoltageLimit"] > 0 for _, d in limits), "the charge voltage limit is never zero")
def short_alarm(d):
    return str(d["AlarmShortCircuit"])
before_alarms = [short_alarm(d) for t, d in by_id[0x35A] if t < trip_s]
after_alarms = [short_alarm(d) for t, d in by_id[0x35A] if t > trip_s]
check(before_alarms and all(a == "ok" for a in before_alarms), f"0x35A short-circuit alarm ok before: {before_alarms[:3]}")
check(after_alarms and all(a == "active" for a in after_alarms), f"0x35A short-circuit alarm active after: {after_alarms[:3]}")
check.finish()

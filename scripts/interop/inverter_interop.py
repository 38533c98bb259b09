"""Inverter CAN interop: the frames `flexbms sim --inverter P --can-log F` writes, read back by
`cantools` (a peer we did not write) with the DBC the project wrote from the spec.

First the DBC itself is checked against the spec's byte examples (check_dbc_vectors.py). Then,
for each profile (pylon, victron, sma), a 3-hour off-grid run with an overload, a hot ambient
and a silent inverter is logged, and every frame is parsed by cantools' candump log reader and
decoded through the DBC. Checked:

- each frame's identifier is in the profile's set and its length is the profile's;
- timing: a complete set every second, the first within 1 s, no identifier faster than 200 ms;
- values against the run's own CSV (1 s rows): voltage, current, SOC as the BMS estimated it
  (capped at 99 % until full);
- a direction whose switch is open is sent with a zero current limit; the charge voltage
  limit is never 0;
- every trip, release, warning and warning_cleared of the run's event list shows in the first
  frame of the matching flag (0x359 for pylon, 0x35A for the others) sent at or after it,
  which is within 1 s;
- the inverter going silent is logged 30 s after its last keep-alive, and the battery keeps
  sending;
- a bank of three packs (`--packs 3`): one leader at a time on the bus, frames going on through
  a change of leader, and a pack's fault seen by the inverter within 2 s (lower discharge
  limit, a module offline in 0x372, the BMS-internal alarm in 0x35A), named by the leader;
- the real-time virtual device with its inverter bus on an slcan pty, read by python-can's
  slcan interface: classic frames of the SMA set, spread over the second, and an SMA
  keep-alive sent back heard.

Usage: python inverter_interop.py PATH/TO/flexbms
"""
import csv
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict

import cantools
import cantools.logreader

HERE = os.path.dirname(os.path.abspath(__file__))
FLEXBMS = sys.argv[1]
DBC = cantools.database.load_file(os.path.join(HERE, "flexbms-inverter.dbc"))
from checks import Checks  # noqa: E402

check = Checks("inverter")


# The spec's vectors through the DBC.
vectors = subprocess.run([sys.executable, os.path.join(HERE, "check_dbc_vectors.py")],
                         capture_output=True, text=True)
check(vectors.returncode == 0, f"DBC against the spec's vectors: {vectors.stdout}{vectors.stderr}")

SETS = {
    "pylon": {0x351: 8, 0x355: 4, 0x356: 6, 0x359: 7, 0x35C: 2, 0x35E: 8},
    "sma": {0x351: 8, 0x355: 6, 0x356: 6, 0x35A: 8, 0x35B: 8, 0x35E: 8, 0x35F: 8},
    "victron": {i: 8 for i in [0x351, 0x355, 0x356, 0x35A, 0x35E, 0x35F, 0x370, 0x371, 0x372, 0x373,
                               0x374, 0x375, 0x376, 0x377, 0x378, 0x379, 0x382]},
}
# Fault (as the run's events name it) -> the pylon 0x359 flag (protection, alarm) and the 0x35A
# pair names that carry it.
FLAGS = {
    "discharge_overcurrent": (("ProtDischargeOvercurrent", "AlarmDischargeHighCurrent"), ["HighDischargeCurrent"]),
    "discharge_overtemperature": (("ProtCellOvertemp", "AlarmCellHighTemp"), ["HighTemp"]),
    "charge_overtemperature": (("ProtCellOvertemp", "AlarmCellHighTemp"), ["HighTempCharge"]),
}
SCENARIO = ["--cells", "16", "--capacity", "100", "--duration", "3h", "--profile", "offgrid-day",
            "--initial-soc", "0.7", "--seed", "4", "--sample", "1s",
            "--fault", "overload@20m", "--fault", "hot-ambient@10m", "--fault", "inverter-silent@150m"]

workdir = tempfile.mkdtemp()
for profile, lengths in SETS.items():
    log = os.path.join(workdir, f"{profile}.log")
    out = os.path.join(workdir, f"{profile}.csv")
    run = subprocess.run([FLEXBMS, "sim", *SCENARIO, "--inverter", profile, "--can-log", log, "--out", out, "--json"],
                         capture_output=True, text=True)
    if not check(run.returncode == 0, f"{profile}: the run: {run.stderr}"):
        continue
    summary = json.loads(run.stdout)
    events = summary["events"]
    rows = {round(float(r["time_s"])): r for r in csv.DictReader(open(out))}

    frames = []  # (t, id, length, decoded)
    unknown = 0
    with open(log) as f:
        for line, frame in cantools.logreader.Parser(f).iterlines(keep_unknowns=True):
            if frame is None:
                unknown += 1
                continue
            t = frame.timestamp.timestamp()
            decoded = DBC.decode_message(frame.frame_id, frame.data, allow_truncated=True)
            frames.append((t, frame.frame_id, len(frame.data), decoded))
    check(unknown == 0, f"{profile}: {unknown} log lines cantools could not read")
    check(len(frames) > 10000 * len(lengths), f"{profile}: {len(frames)} frames")
    sent = [fr for fr in frames if fr[1] != 0x305]
    check(summary["inverter"]["frames_sent"] == len(sent), f"{profile}: summary frames_sent {summary['inverter']['frames_sent']} vs log {len(sent)}")

    # Identifiers and lengths.
    bad = [(hex(i), n) for _, i, n, _ in sent if lengths.get(i) != n]
    check(not bad, f"{profile}: frames outside the profile or of the wrong length: {bad[:5]}")

    # Timing.
    by_id = defaultdict(list)
    for t, i, _, d in sent:
        by_id[i].append((t, d))
    check(set(by_id) == set(lengths), f"{profile}: every frame of the set sent: {sorted(map(hex, by_id))}")
    check(all(v[0][0] <= 1.0 + 1.0 for v in by_id.values()), f"{profile}: the first set within 1 s of the start")
    gaps = [b[0] - a[0] for v in by_id.values() for a, b in zip(v, v[1:])]
    check(min(gaps) >= 0.2 and max(gaps) <= 1.0 + 1e-6, f"{profile}: same-ID gaps {min(gaps):.3f}..{max(gaps):.3f} s")
    for second in range(2, 10800, 997):
        ids = {i for t, i, _, _ in sent if second <= t < second + 1}
        check(ids == set(lengths), f"{profile}: a complete set in second {second}: {sorted(map(hex, ids))}")

    # Values against the run's CSV, at the whole seconds (the frame carries that step's data).
    worst = defaultdict(float)
    for t, d in by_id[0x356]:
        row = rows.get(round(t))
        if row is None or abs(t - round(t)) > 0.3:
            continue
        worst["V"] = max(worst["V"], abs(d["Voltage"] - float(row["pack_V"])))
        worst["A"] = max(worst["A"], abs(d["Current"] - float(row["current_A"])))
    for t, d in by_id[0x355]:
        row = rows.get(round(t))
        if row is None or not row["soc_est"] or abs(t - round(t)) > 0.3:
            continue
        expected = min(float(row["soc_est"]) * 100, 99.0)
        worst["SOC"] = max(worst["SOC"], abs(d["SOC"] - expected))
        if profile != "pylon":
            worst["SOCHighRes"] = max(worst["SOCHighRes"], abs(d["SOCHighRes"] - expected))
    check(worst["V"] <= 0.25, f"{profile}: 0x356 voltage within 0.25 V of the pack's: {worst['V']:.3f}")
    check(worst["A"] <= 1.0, f"{profile}: 0x356 current within 1 A of the pack's: {worst['A']:.3f}")
    check(worst["SOC"] <= 0.51, f"{profile}: 0x355 SOC within rounding of the BMS's estimate: {worst['SOC']:.3f}")
    if profile != "pylon":
        check(worst["SOCHighRes"] <= 0.006, f"{profile}: hi-res SOC: {worst['SOCHighRes']:.4f}")

    # Open switches are sent as zero limits; CVL never 0.
    opened = {"chg": 0, "dis": 0}
    for t, d in by_id[0x351]:
        row = rows.get(round(t))
        check(d["ChargeVoltageLimit"] > 0, f"{profile}: CVL 0 at {t}") if d["ChargeVoltageLimit"] <= 0 else None
        if row is None or abs(t - round(t)) > 0.05:
            continue
        if row["chg_on"] == "0":
            opened["chg"] += 1
            check(d["ChargeCurrentLimit"] == 0, f"{profile}: charge switch open at {t} but CCL {d['ChargeCurrentLimit']}") if d["ChargeCurrentLimit"] != 0 else None
        if row["dis_on"] == "0":
            opened["dis"] += 1
            check(d["DischargeCurrentLimit"] == 0, f"{profile}: discharge switch open at {t} but DCL {d['DischargeCurrentLimit']}") if d["DischargeCurrentLimit"] != 0 else None
    check(opened["chg"] > 0 and opened["dis"] > 0, f"{profile}: the run opened both switches at some time: {opened}")
    check(min(d["ChargeVoltageLimit"] for _, d in by_id[0x351]) > 40, f"{profile}: CVL never 0")

    # Events in the first matching frame at or after them.
    flag_id = 0x359 if profile == "pylon" else 0x35A
    seen = 0
    for e in events:
        if e["kind"] not in ("trip", "release", "warning", "warning_cleared") or e.get("fault") not in FLAGS:
            continue
        (prot, alarm), pairs = FLAGS[e["fault"]]
        t0 = e["t_s"]
        after = [(t, d) for t, d in by_id[flag_id] if t >= t0 - 1e-6]
        if not check(after and after[0][0] - t0 <= 1.0, f"{profile}: a {hex(flag_id)} within 1 s of {e}"):
            continue
        d = after[0][1]
        raised = e["kind"] in ("trip", "warning")
        trip_level = e["kind"] in ("trip", "release")
        if profile == "pylon":
            name = prot if trip_level else alarm
            # Two faults can share one flag (charge and discharge over-temperature).
            others = [f for f, ((p, a), _) in FLAGS.items() if f != e["fault"] and (p if trip_level else a) == name]
            if raised or not others:
                check(d[name] == (1 if raised else 0), f"{profile}: {name} after {e}: {d[name]}")
        else:
            for pair in pairs:
                name = ("Alarm" if trip_level else "Warning") + pair
                check(d[name] == ("active" if raised else "ok"), f"{profile}: {name} after {e}: {d[name]}")
            if raised:
                general = ("Alarm" if trip_level else "Warning") + "General"
                check(d[general] == "active", f"{profile}: {general} raised with {e}")
        seen += 1
    kinds = {(e["kind"], e.get("fault")) for e in events}
    check(("trip", "discharge_overcurrent") in kinds and ("release", "discharge_overcurrent") in kinds
          and ("warning", "discharge_overtemperature") in kinds and ("trip", "charge_overtemperature") in kinds,
          f"{profile}: the run has the expected trips, releases and warnings: {sorted(k for k in kinds if k[1])}")
    check(seen >= 6, f"{profile}: {seen} protection events checked in the frames")

    # The inverter's silence.
    keepalives = [t for t, i, _, _ in frames if i == 0x305]
    silent = [e for e in events if e["kind"] == "inverter_silent"]
    heard = [e for e in events if e["kind"] == "inverter_heard"]
    check(len(heard) == 1 and heard[0]["t_s"] <= 2, f"{profile}: inverter heard at the start: {heard}")
    if check(len(silent) == 1, f"{profile}: one inverter_silent event: {silent}"):
        gap = silent[0]["t_s"] - keepalives[-1]
        check(29 <= gap <= 31, f"{profile}: silence logged {gap:.1f} s after the last keep-alive")
        check(any(t > silent[0]["t_s"] + 60 for t, _, _, _ in sent), f"{profile}: frames still sent after the silence")

# A bank of three packs: pack 2's sensor fails at 1 h, pack 1 (the leader) loses its CAN bus at
# 2 h. The inverter must see the bank lose a pack within 2 s, and one leader at a time.
log = os.path.join(workdir, "bank.log")
run = subprocess.run([FLEXBMS, "sim", "--packs", "3", "--cells", "16", "--capacity", "100", "--duration", "3h",
                      "--initial-soc", "0.6", "--seed", "3", "--fault", "thermistor-open:2:1@1h",
                      "--fault", "can-silent:1@2h", "--inverter", "victron", "--can-log", log, "--json"],
                     capture_output=True, text=True)
if check(run.returncode == 0, f"bank: the run: {run.stderr}"):
    summary = json.loads(run.stdout)
    by_id = defaultdict(list)
    with open(log) as f:
        for line, frame in cantools.logreader.Parser(f).iterlines(keep_unknowns=False):
            if frame.frame_id != 0x305:
                by_id[frame.frame_id].append((frame.timestamp.timestamp(),
                                              DBC.decode_message(frame.frame_id, frame.data, allow_truncated=True)))
    gaps = [b[0] - a[0] for v in by_id.values() for a, b in zip(v, v[1:])]
    check(min(gaps) >= 0.2, f"bank: one leader at a time (same-ID gap {min(gaps):.3f} s)")
    check(max(gaps) <= 5, f"bank: the frames go on through the leader's change (longest gap {max(gaps):.1f} s)")
    check(summary["leaders"] == [{"t_s": 1.0, "pack": 1}, {"t_s": 7203.0, "pack": 2}], f"bank: leaders {summary['leaders']}")
    trip = next((e for e in summary["events"] if e["kind"] == "trip"), None)
    named = next((e for e in summary["events"] if e["kind"] == "bank_fault"), None)
    check(trip and trip["pack"] == 2 and trip["fault"] == "temperature_sensor", f"bank: pack 2 trips: {trip}")
    check(named and named["pack"] == 1 and named["about_pack"] == 2 and named.get("sensor") == 1,
          f"bank: the leader names pack 2 and its sensor: {named}")
    if trip:
        t0 = trip["t_s"]

        def first_after(frame_id, t):
            return next(((t1, d) for t1, d in by_id[frame_id] if t1 >= t - 1e-6), (None, None))

        before = [d for t1, d in by_id[0x351] if t1 < t0][-1]
        t1, after = first_after(0x351, t0)
        check(t1 is not None and t1 - t0 <= 2 and after["DischargeCurrentLimit"] < before["DischargeCurrentLimit"],
              f"bank: DCL lowered within 2 s: {before['DischargeCurrentLimit']} -> {after and after['DischargeCurrentLimit']} at +{t1 and t1 - t0}")
        t1, modules = first_after(0x372, t0)
        check(t1 is not None and t1 - t0 <= 2 and modules["ModulesOnline"] == 2 and modules["ModulesOffline"] == 1,
              f"bank: 0x372 shows a pack offline within 2 s: {modules}")
        t1, alarms = first_after(0x35A, t0)
        check(t1 is not None and t1 - t0 <= 2 and alarms["AlarmBMSInternal"] == "active",
              f"bank: 0x35A BMS internal alarm within 2 s: {alarms and alarms['AlarmBMSInternal']}")
        # At power-up the leader is online alone; the others join within seconds.
        joined = {d["InstalledCapacity"] for t1, d in by_id[0x379] if 60 <= t1 < t0}
        check(joined == {280}, f"bank: installed capacity of the three packs once joined: {joined} Ah")
        late = {d["InstalledCapacity"] for t1, d in by_id[0x379] if t0 + 2 <= t1 < 7200}
        check(late == {180}, f"bank: and without pack 2 after its trip: {late} Ah")

# The virtual device in real time with its inverter bus on an slcan adapter (a pty), read by
# python-can's slcan interface: the SMA set, spread over the second, and an SMA keep-alive
# sent back is heard.
import time  # noqa: E402

import can  # noqa: E402

device = subprocess.Popen([FLEXBMS, "sim", "--realtime", "--cells", "16", "--capacity", "100", "--inverter", "sma",
                           "--inverter-slcan-pty", "--duration", "1h"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
try:
    line = device.stdout.readline()
    if check(line.startswith("Inverter CAN (slcan) on /dev/pts/"), f"slcan: the device prints its pty: {line!r}"):
        bus = can.Bus(interface="slcan", channel=line.split(" on ")[1].strip(), bitrate=500000)
        received = []
        start = time.time()
        while time.time() - start < 3.2:
            m = bus.recv(0.1)
            if m is not None:
                received.append((m.timestamp, m.arbitration_id, m.is_extended_id, bytes(m.data)))
        ids = [r[1] for r in received]
        check(received and not any(r[2] for r in received), "slcan: classic 11-bit frames only")
        check(set(ids) == set(SETS["sma"]), f"slcan: the SMA set: {sorted(map(hex, set(ids)))}")
        check(all(len(r[3]) == SETS["sma"].get(r[1]) for r in received), "slcan: the SMA lengths")
        decoded = [DBC.decode_message(r[1], r[3], allow_truncated=True) for r in received]
        volts = [d["Voltage"] for r, d in zip(received, decoded) if r[1] == 0x356]
        check(volts and all(45 < v < 60 for v in volts), f"slcan: 0x356 voltage of a 16S LFP pack: {volts}")
        gaps = [b[0] - a[0] for a, b in zip(received, received[1:])]
        same = [b[0] - a[0] for i in set(ids) for a, b in zip([r for r in received if r[1] == i],
                                                                 [r for r in received if r[1] == i][1:])]
        check(min(gaps) >= 0.03, f"slcan: frames spread over the second (closest {min(gaps):.3f} s apart)")
        check(same and min(same) >= 0.5, f"slcan: no identifier repeated fast ({same and min(same):.3f} s)")
        bus.send(can.Message(arbitration_id=0x305, is_extended_id=False,
                             data=bytes([0x0B, 0x02, 0x83, 0xFF, 0xF6, 0x00, 0xA3, 0x02])))
        time.sleep(1.5)
        bus.shutdown()
finally:
    device.terminate()
    output = device.communicate(timeout=5)[0]
check("inverter_heard" in output, f"slcan: the SMA keep-alive heard: {output[-200:]!r}")

check.finish()

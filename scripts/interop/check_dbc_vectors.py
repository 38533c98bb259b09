"""Checks flexbms-inverter.dbc against the byte examples of the inverter protocol spec
(/work/shared/specs/inverter-protocols.md §1): the §1.9 test vectors and field captures, the
captures quoted in §1.3/§1.4, and a few payloads stated there byte by byte.

Every payload is decoded with cantools (`allow_truncated=True`, so the short Pylon frames work)
and each decoded signal must equal the value the spec gives (numbers: relative tolerance 1e-6;
value-table signals: the choice name). Every signal that fits in a payload must have an
expected value, so nothing decodes unchecked.

Usage: python check_dbc_vectors.py [path/to/flexbms-inverter.dbc]
Exits 0 and prints "N vectors decoded" on success, 1 with a list of mismatches otherwise.
"""
import math
import os
import sys

import cantools

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DBC = os.path.join(HERE, "flexbms-inverter.dbc")

PYLON_FLAGS = [
    "ProtCellOvervoltage", "ProtCellUndervoltage", "ProtCellOvertemp", "ProtCellUndertemp",
    "ProtDischargeOvercurrent", "ProtChargeOvercurrent", "ProtSystemError",
    "AlarmCellHighVoltage", "AlarmCellLowVoltage", "AlarmCellHighTemp", "AlarmCellLowTemp",
    "AlarmDischargeHighCurrent", "AlarmChargeHighCurrent", "AlarmInternalCommFailure",
]
PAIR_CONDS = [
    "General", "HighVoltage", "LowVoltage", "HighTemp", "LowTemp", "HighTempCharge",
    "LowTempCharge", "HighDischargeCurrent", "HighChargeCurrent", "Contactor", "ShortCircuit",
    "BMSInternal", "CellImbalance",
]
REQUESTS = ["ChargeEnable", "DischargeEnable", "ForceCharge1", "ForceCharge2", "FullChargeRequest"]
EVENTS = ["EventSocRecalStart", "EventSocRecalStop", "EventPowerLimitStart",
          "EventPowerLimitStop", "EventPreventiveShutdown"]


def flags(names, set_=()):
    return {n: (1 if n in set_ else 0) for n in names}


def pylon_flags(set_=(), modules=0):
    d = flags(PYLON_FLAGS, set_)
    d.update(ModuleCount=modules, Marker1=0x50, Marker2=0x4E)
    return d


def pairs(value):
    return {f"{kind}{c}": value for kind in ("Alarm", "Warning") for c in PAIR_CONDS}


def requests(set_=()):
    return flags(REQUESTS, set_)


def ascii_bytes(prefix, text):
    raw = text.encode("ascii")
    return {f"{prefix}Byte{i}": b for i, b in enumerate(raw)}


# (source in the spec, frame id, payload hex, expected decoded values)
VECTORS = [
    # §1.9 test vectors
    ("§1.9 0x351", 0x351, "14 02 E8 03 DC 05 CC 01",
     dict(ChargeVoltageLimit=53.2, ChargeCurrentLimit=100.0, DischargeCurrentLimit=150.0,
          DischargeVoltageLimit=46.0)),
    ("§1.9 0x355", 0x355, "43 00 62 00 59 1A",
     dict(SOC=67, SOH=98, SOCHighRes=67.45)),
    ("§1.9 0x356", 0x356, "6F 14 85 FF EA 00",
     dict(Voltage=52.31, Current=-12.3, Temperature=23.4)),
    ("§1.9 0x359", 0x359, "04 00 00 01 04 50 4E",
     pylon_flags({"ProtCellUndervoltage", "AlarmChargeHighCurrent"}, modules=4)),
    ("§1.9 0x35C", 0x35C, "E0 00",
     requests({"ChargeEnable", "DischargeEnable", "ForceCharge1"})),
    ("§1.9 0x35A byte 0", 0x35A, "9A",
     dict(AlarmGeneral="ok", AlarmHighVoltage="ok", AlarmLowVoltage="active", AlarmHighTemp="ok")),
    ("§1.9 0x35A byte 0, general raised", 0x35A, "99",
     dict(AlarmGeneral="active", AlarmHighVoltage="ok", AlarmLowVoltage="active",
          AlarmHighTemp="ok")),
    ("§1.9 0x373 (= BYD capture)", 0x373, "EA 0C 01 0D 1F 01 22 01",
     dict(MinCellVoltage=3.306, MaxCellVoltage=3.329, MinCellTemperature=287,
          MaxCellTemperature=290)),
    ("§1.9 0x378 (= BYD capture)", 0x378, "40 08 00 00 2B 07 00 00",
     dict(ChargedEnergy=211.2, DischargedEnergy=183.5)),
    ("§1.9 0x379", 0x379, "18 01 00 00 00 00 00 00",
     dict(InstalledCapacity=280)),

    # §1.3 0x351 capture = §1.9 Pylontech US5000 old firmware 0x351 (same bytes)
    ("§1.3/§1.9 0x351 capture (US5000 old fw)", 0x351, "14 02 C0 12 C0 12 C2 01",
     dict(ChargeVoltageLimit=53.2, ChargeCurrentLimit=480.0, DischargeCurrentLimit=480.0,
          DischargeVoltageLimit=45.0)),
    # §1.9 Pylontech US5000, old firmware
    ("§1.9 US5000 old fw 0x355", 0x355, "58 00 5E 00", dict(SOC=88, SOH=94)),
    ("§1.3/§1.9 US5000 old fw 0x356 capture", 0x356, "7A 13 F2 FE 6B 01",
     dict(Voltage=49.86, Current=-27.0, Temperature=36.3)),
    ("§1.9 US5000 old fw 0x359", 0x359, "00 00 00 00 06 50 4E", pylon_flags(modules=6)),
    ("§1.9 US5000 old fw 0x35C", 0x35C, "C0 00", requests({"ChargeEnable", "DischargeEnable"})),
    # §1.9 Pylontech US5000, new firmware
    ("§1.9 US5000 new fw 0x355", 0x355, "54 00 60 00 00 00",
     dict(SOC=84, SOH=96, SOCHighRes=0.0)),
    ("§1.9 US5000 new fw 0x35A (all not supported)", 0x35A, "00 00 00 00 00 00 00 00",
     pairs("not_supported")),
    ("§1.9 US5000 new fw 0x35F", 0x35F, "4C 49 01 03 3C 02 AA 00",
     dict(BatteryType=0x494C, VersionMajor=1, VersionMinor=3, Capacity=572,
          ManufacturerId=0x00AA)),

    # other payloads the spec states byte by byte (§1.3, §1.4)
    ("§1.3 0x35A BYD all-OK capture", 0x35A, "AA AA AA AA AA AA AA AA", pairs("ok")),
    ("§1.3 0x35B default (8 x 00)", 0x35B, "00 00 00 00 00 00 00 00", flags(EVENTS)),
    ("§1.3 0x35C typical: charge only", 0x35C, "80 00", requests({"ChargeEnable"})),
    ("§1.3 0x35C typical: discharge only", 0x35C, "40 00", requests({"DischargeEnable"})),
    ("§1.3 0x35C typical: charge + force charge I", 0x35C, "A0 00",
     requests({"ChargeEnable", "ForceCharge1"})),
    ("§1.3 0x35C typical: charge + force charge II", 0x35C, "90 00",
     requests({"ChargeEnable", "ForceCharge2"})),
    ("§1.3 0x35E Pylon name", 0x35E, "50 59 4C 4F 4E 20 20 20",
     ascii_bytes("Name", "PYLON   ")),
    ("§1.3 0x35F BYD capture (field by field)", 0x35F, "4C 69 01 17 69 00 00 00",
     dict(BatteryType=0x694C, VersionMajor=0x01, VersionMinor=0x17, Capacity=105,
          ManufacturerId=0)),
    ("§1.4 0x305 Pylon-mode heartbeat / Victron GX (all zero)", 0x305, "00 00 00 00 00 00 00 00",
     dict(BatteryVoltage=0.0, BatteryCurrent=0.0, BatteryTemperature=0.0, StateOfCharge=0.0)),
    ("§1.4 0x306 Victron GX (all zero)", 0x306, "00 00 00 00 00 00 00 00",
     dict(SOH=0, ChargingProcedure=0, OperatingState="none", ActiveError=0,
          ChargeVoltageSetpoint=0.0)),
    ("§1.4 0x307 Victron GX capture", 0x307, "12 34 56 78 56 49 43 00",
     dict(InvStatus3Byte0=0x12, InvStatus3Byte1=0x34, InvStatus3Byte2=0x56,
          InvStatus3Byte3=0x78, **{f"InvStatus3Byte{4 + i}": b for i, b in enumerate(b"VIC")},
          InvStatus3Byte7=0)),
]

EXPECTED_MESSAGES = {
    0x351: "BMS_Limits", 0x355: "BMS_SOC", 0x356: "BMS_Measurements", 0x359: "BMS_PylonFlags",
    0x35A: "BMS_AlarmsWarnings", 0x35B: "BMS_Events", 0x35C: "BMS_Requests", 0x35E: "BMS_Name",
    0x35F: "BMS_Info", 0x370: "BMS_ProductName1", 0x371: "BMS_ProductName2",
    0x372: "BMS_Modules", 0x373: "BMS_CellExtremes", 0x374: "BMS_MinCellId",
    0x375: "BMS_MaxCellId", 0x376: "BMS_MinTempId", 0x377: "BMS_MaxTempId",
    0x378: "BMS_Energy", 0x379: "BMS_Capacity", 0x382: "BMS_FamilyName",
    0x305: "INV_Status", 0x306: "INV_Status2", 0x307: "INV_Status3",
}


def same(got, want):
    if isinstance(want, str):
        name = getattr(got, "name", None)
        return name == want
    if isinstance(got, (int, float)) and not isinstance(got, bool) and not hasattr(got, "name"):
        if want == 0:
            return got == 0
        return math.isclose(got, want, rel_tol=1e-6, abs_tol=0.0)
    return False


def check_structure(db, errors):
    ids = {m.frame_id: m for m in db.messages}
    for fid, name in EXPECTED_MESSAGES.items():
        m = ids.get(fid)
        if m is None:
            errors.append(f"structure: message 0x{fid:03X} ({name}) missing")
            continue
        if m.name != name:
            errors.append(f"structure: 0x{fid:03X} is named {m.name}, expected {name}")
        if m.is_extended_frame or m.is_fd:
            errors.append(f"structure: 0x{fid:03X} must be classic CAN with an 11-bit id")
        if m.length != 8:
            errors.append(f"structure: 0x{fid:03X} length {m.length}, expected 8")
        if not m.comment:
            errors.append(f"structure: 0x{fid:03X} has no comment")
        for s in m.signals:
            if s.byte_order != "little_endian":
                errors.append(f"structure: 0x{fid:03X} {s.name} is not little-endian")
    extra = sorted(set(ids) - set(EXPECTED_MESSAGES))
    if extra:
        errors.append("structure: unexpected messages " + ", ".join(f"0x{i:03X}" for i in extra))


def main(argv):
    path = argv[1] if len(argv) > 1 else DEFAULT_DBC
    db = cantools.database.load_file(path)
    errors = []
    check_structure(db, errors)
    for source, fid, hexstr, want in VECTORS:
        data = bytes.fromhex(hexstr)
        tag = f"{source} [0x{fid:03X}: {hexstr}]"
        try:
            got = db.decode_message(fid, data, allow_truncated=True)
        except Exception as exc:  # noqa: BLE001 - report any decoder failure as a mismatch
            errors.append(f"{tag}: decode failed: {exc!r}")
            continue
        msg = db.get_message_by_frame_id(fid)
        fits = {s.name for s in msg.signals if (s.start + s.length - 1) // 8 < len(data)}
        for name in sorted(set(want) - set(got)):
            errors.append(f"{tag}: signal {name} not decoded")
        for name in sorted(set(got) - set(want)):
            errors.append(f"{tag}: signal {name} decoded as {got[name]!r} but has no expected value")
        if set(got) != fits and set(got) == set(want):
            errors.append(f"{tag}: decoded signals {sorted(got)} differ from those that fit "
                          f"in {len(data)} bytes {sorted(fits)}")
        for name, value in want.items():
            if name in got and not same(got[name], value):
                errors.append(f"{tag}: {name} = {got[name]!r}, spec says {value!r}")
    if errors:
        print(f"DBC check FAILED ({path}): {len(errors)} mismatch(es)", file=sys.stderr)
        for e in errors:
            print("  " + e, file=sys.stderr)
        return 1
    print(f"{len(VECTORS)} vectors decoded")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

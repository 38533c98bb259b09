"""Pylontech RS485 interop: the virtual device (`flexbms sim --realtime --pylontech-rs485-pty`)
read by the `pylontech` client from PyPI (Tomcat42/pylontech-python, a peer we did not write)
over a pseudo-terminal, and cross-checked with the same device's ThingSet objects read by
python-thingset over TCP.

Checked: analog values (0x42: 16 cells, voltage, current, capacities, temperatures) against
ThingSet's Meas; the management answer (0x92) against ThingSet's limits, and its charge enable
falling with ThingSet's Input/wChgEnable; alarm information (0x44); the serial number (0x93)
equal to the ThingSet node ID; the client's PylontechStack end to end; a frame with a bad
checksum answered with RTN 02, a frame for another pack left unanswered, and the device still
answering afterwards.

The client asserts RTS around each write (an RS485 transceiver's direction line); a
pseudo-terminal has no RTS, so that one call is turned into a no-op here. The protocol is
untouched.

Usage: python pylontech_interop.py PATH/TO/flexbms
"""
import os
import select
import socket
import subprocess
import sys
import tempfile
import time

import serial

serial.Serial._update_rts_state = lambda self: None  # see the docstring
from pylontech import PylontechDecode, PylontechEncode, PylontechRS485, PylontechStack  # noqa: E402

import python_thingset.transport.tcp as tcp  # noqa: E402
from python_thingset import ThingSetTCP  # noqa: E402

FLEXBMS = sys.argv[1]
from checks import Checks  # noqa: E402

check = Checks("pylontech")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask(link, request, decoder):
    link.send(request)
    packets = link.receive(timeout=2)
    d = PylontechDecode()
    d.decode_header(packets[0])
    return getattr(d, decoder)()


def raw(path, frame, wait=0.5):
    """Writes one frame to the line and returns what comes back within `wait` s."""
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    try:
        os.write(fd, frame)
        got = b""
        deadline = time.time() + wait
        while time.time() < deadline:
            r, _, _ = select.select([fd], [], [], max(0, deadline - time.time()))
            if not r:
                break
            got += os.read(fd, 256)
            if got.endswith(b"\r"):
                break
        return got
    finally:
        os.close(fd)


port = free_port()
tcp._TcpLink.PORT = port
workdir = tempfile.mkdtemp()
device = subprocess.Popen(
    [FLEXBMS, "sim", "--realtime", "--cells", "16", "--capacity", "100", "--pylontech-rs485-pty",
     "--thingset-tcp", f"127.0.0.1:{port}", "--duration", "1d"],
    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
try:
    lines = [device.stdout.readline() for _ in range(2)]
    pty = next((l.split(" on ")[1].strip() for l in lines if l.startswith("Pylontech RS485 on ")), None)
    check(pty is not None and pty.startswith("/dev/pts/"), f"the device prints its RS485 pty: {lines}")
    time.sleep(1.5)
    ts = ThingSetTCP("127.0.0.1")

    link = PylontechRS485(device=pty, baud=9600)
    enc = PylontechEncode()

    # Analog values against ThingSet's view a moment later (real time: a step per second).
    a = ask(link, enc.getAnalogValue(battNumber=0), "decodeAnalogValue")
    cells_ts = ts.get(0x80).values[0].value
    check(a["RTN"] == 0 and a["ADR"] == 2 and a["CommandValue"] == 2, f"0x42 header: {a['RTN']} {a['ADR']}")
    check(a["CellCount"] == 16 and len(a["CellVoltages"]) == 16, f"16 cells: {a['CellCount']}")
    check(all(2.5 < v < 3.65 for v in a["CellVoltages"]), f"LFP cell voltages: {a['CellVoltages']}")
    check(max(abs(x - y) for x, y in zip(a["CellVoltages"], cells_ts)) <= 0.01,
          f"cells as ThingSet reads them: {a['CellVoltages']} vs {cells_ts}")
    check(abs(a["Voltage"] - sum(a["CellVoltages"])) <= 0.05, f"module voltage {a['Voltage']} = sum of the cells")
    current_ts = ts.get(0x73).values[0].value
    check(abs(a["Current"] - current_ts) <= 1.0, f"current {a['Current']} A vs ThingSet {current_ts} A")
    soc = 100 * a["RemainCapacity"] / a["ModuleTotalCapacity"]
    soc_ts = ts.get(0x7C).values[0].value
    check(a["CapDetect"] == ">65Ah" and 80 <= a["ModuleTotalCapacity"] <= 100,
          f"a 100 Ah pack in 24-bit capacities: {a['CapDetect']} {a['ModuleTotalCapacity']}")
    check(abs(soc - soc_ts) <= 2.0, f"SOC from the capacities {soc:.1f} % vs ThingSet rSOC_pct {soc_ts:.1f} %")
    check(a["TemperatureCount"] >= 5 and all(15 < t < 40 for t in a["Temperatures"]),
          f"temperatures in °C: {a['Temperatures']}")

    # Management values against ThingSet's limits, and the charge enable from ThingSet's Input.
    m = ask(link, enc.getChargeDischargeManagement(battNumber=0), "decodeChargeDischargeManagementInfo")
    ccl_ts = ts.get(0x1C1).values[0].value
    check(m["StatusChargeEnable"] and m["StatusDischargeEnable"], f"both enabled: {m}")
    check(abs(m["ChargeCurrent"] - ccl_ts) <= 1.0, f"CCL {m['ChargeCurrent']} vs ThingSet {ccl_ts}")
    check(m["DischargeCurrent"] < 0 and 50 <= -m["DischargeCurrent"] <= 100, f"DCL sent negative: {m['DischargeCurrent']}")
    check(52 <= m["ChargeVoltage"] <= 57 and abs(m["DischargeVoltage"] - 44.8) < 0.01,
          f"CVL {m['ChargeVoltage']} V, DVL {m['DischargeVoltage']} V (16 x 2.8 V)")
    r = ts.update(0x90, False)
    time.sleep(1.5)
    m = ask(link, enc.getChargeDischargeManagement(battNumber=0), "decodeChargeDischargeManagementInfo")
    check(not m["StatusChargeEnable"] and m["ChargeCurrent"] == 0 and m["StatusDischargeEnable"],
          f"charging disabled over ThingSet shows on RS485: {m}")
    ts.update(0x90, True)

    al = ask(link, enc.getAlarmInfo(battNumber=0), "decodeAlarmInfo")
    check(al["CellCount"] == 16 and all(x == "Ok" for x in al["CellAlarm"]), f"0x44 cells Ok: {al.get('CellAlarm')}")
    check(al["Status1"] == 0 and al["Status2"] & 0x06 != 0, f"0x44 no protection, switches on: {al['Status1']} {al['Status2']}")

    sn = ask(link, enc.getSerialNumber(battNumber=0), "decodeSerialNumber")
    node_id = ts.get(0x1D).values[0].value
    check(sn["ModuleSerialNumber"] == node_id, f"serial number {sn['ModuleSerialNumber']!r} = node ID {node_id!r}")
    ts.disconnect()
    link.close()

    # The client's high-level stack, as a monitoring program uses it.
    stack = PylontechStack(pty, baud=9600, manualBattcountLimit=1)
    data = stack.update()
    check(data["SerialNumbers"] == [node_id] and len(data["AnaloglList"]) == 1
          and data["Calculated"]["Remain_Percent"] > 0, f"PylontechStack.update: {data.get('Calculated')}")
    stack.pylon.close()

    # Damaged and foreign frames.
    check(raw(pty, b"~20024692E00202FD2F\r") == b"~200246020000FDB0\r", "a bad checksum: RTN 02")
    check(raw(pty, b"~20034692E00203FD2C\r") == b"", "a frame for pack 3: no answer")
    answer = raw(pty, b"~20024692E00202FD2E\r")
    check(answer.startswith(b"~20024600B014") and answer.endswith(b"\r"), f"still answering: {answer!r}")
    check(device.poll() is None, "the device is still running")
finally:
    device.terminate()
    device.wait(timeout=5)

check.finish()

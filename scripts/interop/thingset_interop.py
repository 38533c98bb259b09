"""ThingSet interop: the virtual device (`flexbms sim --realtime --thingset-tcp`) driven by the
`python-thingset` client from PyPI (a peer we did not write), over TCP in binary mode.

Checks: live values read; schema discovery through _Metadata; a configuration write refused
without authentication (A1), accepted after xAuth and read back; an invalid write refused whole
(A9) with the old value kept; the inputs written by anyone; a preset executed (int32 1); a
malformed frame answered with an error status, the device still answering afterwards.

Usage: python thingset_interop.py PATH/TO/flexbms
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

import python_thingset.transport.tcp as tcp
from python_thingset import ThingSetStatus, ThingSetTCP

FLEXBMS = sys.argv[1]
from checks import Checks  # noqa: E402

check = Checks("thingset")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raw(port, data, wait=0.3):
    """Sends raw bytes on a fresh connection and returns what comes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(data)
        time.sleep(wait)
        s.settimeout(2)
        try:
            return s.recv(4096)
        except socket.timeout:
            return b""


port = free_port()
tcp._TcpLink.PORT = port  # python-thingset always dials 9001; the test picks a free port
workdir = tempfile.mkdtemp()
config = os.path.join(workdir, "device.json")
with open(config, "w") as f:
    f.write('{"sCellChemistry":"LFP","sSeriesCellCount":16,"sNominalCapacity_Ah":100}')
device = subprocess.Popen(
    [FLEXBMS, "sim", "--realtime", "--speed", "60", "--thingset-tcp", f"127.0.0.1:{port}",
     "--config", config, "--duration", "1d"],
    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
try:
    line = device.stdout.readline()
    check(line.startswith("ThingSet TCP on 127.0.0.1:"), f"the device announces its port: {line!r}")
    time.sleep(0.5)

    client = ThingSetTCP("127.0.0.1")
    # Live values.
    r = client.get(0x7C)
    check(r.status_code == ThingSetStatus.CONTENT, f"GET rSOC_pct: {r.status_code}")
    soc = r.values[0].value if r.values else None
    check(isinstance(soc, float) and 0 <= soc <= 100, f"rSOC_pct is a percentage: {soc}")
    r = client.get(0x80)
    cells = r.values[0].value if r.values else None
    check(isinstance(cells, list) and len(cells) == 16 and all(2.5 < v < 3.7 for v in cells),
          f"rCellVoltages_V: 16 LFP cells: {cells}")
    r = client.fetch(0x07, [0x7C, 0x7F])
    check(r.status_code == ThingSetStatus.CONTENT and len(r.values) == 2 and r.values[1].value == 3,
          f"FETCH rSOC_pct, rBmsState (NORMAL): {r.data}")

    # Schema discovery.
    schema = client.discover_schema()
    for path in ["Meas/rSOC_pct", "Meas/rCellVoltages_V", "Conf/sCellOvervoltage_V", "Conf/xPresetLFP",
                 "Conf/pCurrentGain", "Input/wChgEnable", "xAuth"]:
        check(path in schema.by_path, f"schema has {path}")
    if "Conf/sCellOvervoltage_V" in schema.by_path:
        node = schema.by_path["Conf/sCellOvervoltage_V"]
        check(node.id == 0x60 and node.type == "f32" and node.access == 0x67, f"sCellOvervoltage_V metadata: {node}")

    # Configuration: refused to a user, accepted after xAuth, read back and saved.
    r = client.update(0x60, 3.7, parent_id=0x05)
    check(r.status_code == ThingSetStatus.UNAUTHORISED, f"unauthenticated Conf write: {r.status_code}")
    r = client.exec(0x20, ["expert"])
    check(r.status_code == ThingSetStatus.CHANGED, f"xAuth expert: {r.status_code}")
    r = client.update(0x60, 3.7, parent_id=0x05)
    check(r.status_code == ThingSetStatus.CHANGED, f"authenticated Conf write: {r.status_code}")
    r = client.get(0x60)
    check(r.values and abs(r.values[0].value - 3.7) < 1e-6, f"sCellOvervoltage_V read back: {r.data}")
    with open(config) as f:
        check('"sCellOvervoltage_V": 3.7' in f.read(), "the new value saved in the device's configuration file")
    # An invalid write (the trip at the charge target) refused whole; the old value stays.
    r = client.update(0x60, 3.55, parent_id=0x05)
    check(r.status_code == ThingSetStatus.CONFLICT, f"invalid Conf write: {r.status_code}")
    r = client.get(0x60)
    check(r.values and abs(r.values[0].value - 3.7) < 1e-6, "the refused value not applied")
    # A calibration item needs the manufacturer.
    r = client.update(0x139, 1.01, parent_id=0x05)
    check(r.status_code == ThingSetStatus.UNAUTHORISED, f"pCurrentGain as expert: {r.status_code}")

    # Inputs (anyone) and a preset.
    r = client.update(0x91, False)
    check(r.status_code == ThingSetStatus.CHANGED, f"wDisEnable without parent: {r.status_code}")
    time.sleep(0.2)
    r = client.get(0x7F)
    check(r.values and r.values[0].value == 1, f"discharge off: rBmsState CHG_ONLY (1): {r.data}")
    r = client.exec(0xA2, [200.0])
    check(r.status_code == ThingSetStatus.CHANGED and r.data == 1, f"xPresetLFP(200): {r.status_code} {r.data}")
    r = client.get(0x50)
    check(r.values and r.values[0].value == 200, f"sNominalCapacity_Ah after the preset: {r.data}")
    client.disconnect()

    # Through a forward envelope naming this node (python-thingset writes the EUI in lower case).
    forwarded = ThingSetTCP("127.0.0.1", target_eui=0xF1E8B50000000001)
    r = forwarded.get(0x7F)
    check(r.status_code == ThingSetStatus.CONTENT, f"a forward envelope to this node: {r.status_code}")
    forwarded.disconnect()

    # Malformed frames get an error status and the device keeps running.
    check(raw(port, bytes([0x07, 0x05, 0xA1, 0x18, 0x60, 0xFC])) == bytes([0xA0, 0xF6, 0xF6]),
          "a reserved CBOR head: A0")
    check(raw(port, bytes([0x05, 0x18]), wait=1.5) == bytes([0xA8, 0xF6, 0xF6]), "a stalled request: A8 after 1 s")
    check(raw(port, bytes([0x01, 0x19, 0x12, 0x34])) == bytes([0xA4, 0xF6, 0xF6]), "an unknown ID: A4")
    client = ThingSetTCP("127.0.0.1")
    r = client.get(0x7C)
    check(r.status_code == ThingSetStatus.CONTENT, "still answering after the malformed frames")
    client.disconnect()
    check(device.poll() is None, "the device is still running")
finally:
    device.terminate()
    device.wait(timeout=5)

# Pay-as-you-go over ThingSet: a device that starts without credit; a token from openpaygo.
from openpaygo import OpenPAYGOTokenEncoder, TokenType

KEY, START = "a29ab82edc5fbbc41ec9530f6dac86b1", 123456789
port = free_port()
tcp._TcpLink.PORT = port
device = subprocess.Popen(
    [FLEXBMS, "sim", "--realtime", "--speed", "60", "--thingset-tcp", f"127.0.0.1:{port}", "--cells", "8",
     "--capacity", "100", "--payg-key", KEY, "--payg-starting-code", str(START), "--duration", "1d"],
    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
try:
    device.stdout.readline()
    time.sleep(0.5)
    client = ThingSetTCP("127.0.0.1")
    r = client.get(0x1D1)
    check(r.status_code == ThingSetStatus.CONTENT and r.values[0].value == 0, f"no credit at the start: {r.data}")
    _, token = OpenPAYGOTokenEncoder.generate_token(
        secret_key=KEY, count=1, value=2, token_type=TokenType.ADD_TIME, starting_code=START,
        value_divider=1, restricted_digit_set=False, extended_token=False)
    token = str(token).zfill(9)
    r = client.exec(0x1D4, [token])
    check(r.status_code == ThingSetStatus.CHANGED and r.data == 0, f"openpaygo token accepted (0): {r.status_code} {r.data}")
    r = client.get(0x1D1)
    left = r.values[0].value if r.values else 0
    check(2 * 86400 - 600 <= left <= 2 * 86400, f"two days of credit: {left} s")
    r = client.exec(0x1D4, [token])
    check(r.data == 1, f"the same token again: already used (1): {r.data}")
    r = client.exec(0x1D4, ["111111111"])
    check(r.data == 2, f"a token of another device: invalid (2): {r.data}")
    time.sleep(0.3)
    r = client.get(0x1D2)
    check(r.values and r.values[0].value is False, f"discharge not locked with credit: {r.data}")
    client.disconnect()
finally:
    device.terminate()
    device.wait(timeout=5)

# Text mode on a pseudo-terminal, with python-thingset's serial client (shell-compatible lines).
import serial
from python_thingset import ThingSetSerial

device = subprocess.Popen(
    [FLEXBMS, "sim", "--realtime", "--speed", "60", "--thingset-pty", "--cells", "16", "--capacity", "100",
     "--duration", "1d"],
    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
try:
    line = device.stdout.readline()
    check(line.startswith("ThingSet serial on /dev/pts/"), f"the device announces its pty: {line!r}")
    pty = line.split()[-1]
    time.sleep(0.5)
    # The device prints mLive reports until a shell-style line arrives (spec §9.3); the serial
    # client would take a report for an answer, so one shell-style line goes first.
    with serial.Serial(pty, 115200, timeout=1) as port:
        port.reset_input_buffer()
        port.write(b"thingset ?Meas/rBmsState\n")
        answers = [port.readline() for _ in range(3)]
        check(any(a.startswith(b"#mLive {") for a in answers) or any(a.startswith(b":85 ") for a in answers),
              f"reports before the first shell line, or the answer: {answers!r}")
        check(any(a.rstrip() == b":85 3" for a in answers), f"the shell-style answer has no CRC: {answers!r}")
    client = ThingSetSerial(pty)
    r = client.get("Meas/rSOC_pct")
    check(r.status_code == ThingSetStatus.CONTENT and isinstance(r.values[0].value, float), f"text GET: {r.data}")
    r = client.fetch("Meas", ["rSOC_pct", "rBmsState"])
    check(r.status_code == ThingSetStatus.CONTENT and r.data[1] == 3, f"text FETCH: {r.data}")
    r = client.fetch("Input", [])
    check(r.data == ["wChgEnable", "wDisEnable"], f"text discovery: {r.data}")
    r = client.update("Conf/sCellOvervoltage_V", 3.7)
    check(r.status_code == ThingSetStatus.UNAUTHORISED, f"text Conf write without xAuth: {r.status_code}")
    r = client.exec("xAuth", ["expert"])
    check(r.status_code == ThingSetStatus.CHANGED, f"text xAuth: {r.status_code}")
    r = client.update("Conf/sCellOvervoltage_V", 3.7)
    check(r.status_code == ThingSetStatus.CHANGED, f"text Conf write: {r.status_code}")
    r = client.get("Conf/sCellOvervoltage_V")
    check(r.data == 3.7, f"read back with three decimals: {r.data}")
    r = client.update("Conf/sCellOvervoltage_V", 3.55)
    check(r.status_code == ThingSetStatus.CONFLICT, f"text invalid write: {r.status_code}")
    r = client.update("Input/wDisEnable", False)
    check(r.status_code == ThingSetStatus.CHANGED, f"text input write: {r.status_code}")
    r = client.exec("Conf/xPresetLFP", [100])
    check(r.status_code == ThingSetStatus.CHANGED and r.data == 1, f"text preset: {r.data}")
    client.disconnect()
    # A plain line with its CRC, then a malformed one: answered with an error, still running.
    def answer_line(port):
        # The next line that is not a report (a plain line resumes the reports).
        while True:
            a = port.readline()
            if not a.startswith(b"#"):
                return a

    with serial.Serial(pty, 115200, timeout=1) as port:
        port.write(b"?Input null 61E655F6#\n")
        answer = answer_line(port)
        check(answer.startswith(b':85 ["wChgEnable","wDisEnable"] ') and answer.endswith(b"#\r\n"),
              f"a plain line with CRC answered with CRC: {answer!r}")
        port.write(b'?Meas ["rSOC_pct"\n')
        answer = answer_line(port)
        check(answer.startswith(b":A0 "), f"a malformed line: {answer!r}")
        port.write(b"?Meas/rBmsState\n")
        answer = answer_line(port)
        report = port.readline()
        check(report.startswith(b'#mLive {"Meas":{') and report.endswith(b"#\r\n"), f"mLive reports with CRC: {report!r}")
        # Keypad-style token entry on the same console (this unit has no PAYG provisioning).
        check(answer.startswith(b":85 1 "), f"still answering (discharge off: state 1): {answer!r}")
        port.write(b"*040 575 064\n")
        keypad = answer_line(port)
        check(keypad == b"PAYG: this unit has no pay-as-you-go\r\n", f"keypad entry on the console: {keypad!r}")
    check(device.poll() is None, "the device is still running")
finally:
    device.terminate()
    device.wait(timeout=5)

check.finish()

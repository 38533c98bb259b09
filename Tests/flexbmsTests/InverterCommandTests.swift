import Foundation
import Testing

@Suite struct InverterCommandTests {
    @Test func aRunWithAnInverterWritesACandumpLogAndSummarisesTheBus() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("inv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try flexbms(["sim", "--cells", "16", "--capacity", "100", "--duration", "10s", "--inverter", "pylon",
                             "--inverter-name", "PYLON-A", "--can-log", "bus.log", "--json"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let inverter = object["inverter"] as! [String: Any]
        #expect(inverter["profile"] as? String == "pylon")
        // Six frames a second from the first step (1 s); the run ends at 10 s, after the
        // first frame of the tenth set.
        #expect(inverter["frames_sent"] as? Int == 55)
        #expect(inverter["keepalives_received"] as? Int == 10)
        let last = inverter["last"] as! [String: Any]
        #expect(last["charge_enable"] as? Bool == true)
        #expect((last["charge_voltage_limit_V"] as? Double ?? 0) > 50)
        let lines = try String(contentsOf: dir.appendingPathComponent("bus.log"), encoding: .utf8)
            .split(separator: "\n")
        #expect(lines.count == 65)
        #expect(lines.first == "(0000000001.000000) can0 305#0000000000000000")
        #expect(lines[1].hasPrefix("(0000000001.000000) can0 351#"))
        #expect(lines.contains("(0000000001.500000) can0 35E#50594C4F4E2D4120"))  // "PYLON-A "
        let events = object["events"] as! [[String: Any]]
        #expect(events.contains { $0["kind"] as? String == "inverter_heard" })
    }

    @Test func badInverterOptionsAreNamed() throws {
        let profile = try flexbms(["sim", "--duration", "10s", "--inverter", "growatt"])
        #expect(profile.status != 0 && profile.stderr.contains("--inverter must be one of pylon, victron, sma, got growatt"))
        let log = try flexbms(["sim", "--duration", "10s", "--can-log", "/tmp/x.log"])
        #expect(log.status != 0 && log.stderr.contains("--inverter-name and --can-log need --inverter"))
        let name = try flexbms(["sim", "--duration", "10s", "--inverter", "victron", "--inverter-name", "a name far too long"])
        #expect(name.status != 0 && name.stderr.contains("--inverter-name must be 1 to 16 printable ASCII characters"))
        let silent = try flexbms(["sim", "--duration", "10s", "--fault", "inverter-silent@5s"])
        #expect(silent.status != 0 && silent.stderr.contains("--fault inverter-silent needs --inverter"))
        let batch = try flexbms(["sim", "--duration", "10s", "--pylontech-rs485-pty"])
        #expect(batch.status != 0 && batch.stderr.contains("--pylontech-rs485-pty") && batch.stderr.contains("need --realtime"))
        let baud = try flexbms(["sim", "--realtime", "--duration", "10s", "--pylontech-rs485-pty", "--rs485-baud", "4800"])
        #expect(baud.status != 0 && baud.stderr.contains("--rs485-baud must be 9600 or 115200, got 4800"))
        let address = try flexbms(["sim", "--realtime", "--duration", "10s", "--pylontech-rs485-pty", "--pylontech-address", "17"])
        #expect(address.status != 0 && address.stderr.contains("--pylontech-address must be 2-15 plus 16 x group (0-7), got 17"))
        let missing = try flexbms(["sim", "--realtime", "--duration", "10s", "--pylontech-rs485", "/nonexistent/ttyUSB9"])
        #expect(missing.status != 0 && missing.stderr.contains("--pylontech-rs485: cannot open the serial line: /nonexistent/ttyUSB9"))
        let unwritable = try flexbms(["sim", "--duration", "10s", "--inverter", "sma", "--can-log", "/nonexistent/dir/bus.log"])
        #expect(unwritable.status != 0 && unwritable.stderr.contains("--can-log: cannot create /nonexistent/dir/bus.log"))
    }
}

import Foundation
import Glibc
import Testing

/// `flexbms get/set/exec/schema` against the virtual device on TCP.
@Suite(.serialized) struct LinkCommandTests {
    /// A TCP port that was free a moment ago.
    func freePort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    /// Starts the virtual device on a free port and waits until it answers.
    func startDevice(_ scratch: Scratch) throws -> (Process, String) {
        try scratch.write("device.json", #"{"sCellChemistry":"LFP","sSeriesCellCount":16,"sNominalCapacity_Ah":100}"#)
        return try startDevice(["--config", scratch.path("device.json")])
    }

    /// Starts the virtual device with `arguments` on a free port and waits until it answers.
    func startDevice(_ arguments: [String]) throws -> (Process, String) {
        let port = freePort()
        let process = Process()
        process.executableURL = try flexbmsBinary()
        process.arguments = ["sim", "--realtime", "--speed", "60", "--thingset-tcp", "127.0.0.1:\(port)",
                             "--duration", "1d"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let url = "tcp://127.0.0.1:\(port)"
        for _ in 0..<50 {
            if try flexbms(["get", "Meas/rBmsState", "--device", url]).status == 0 { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return (process, url)
    }

    /// Starts an 8-cell virtual device with `flag` (a pseudo-terminal option) and returns it
    /// with the first line it prints (the terminal's path).
    func startDevice(printing flag: String) throws -> (Process, String) {
        let process = Process()
        process.executableURL = try flexbmsBinary()
        process.arguments = ["sim", "--realtime", "--speed", "60", flag, "--cells", "8", "--capacity", "100",
                             "--duration", "1d"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line += byte
        }
        return (process, String(decoding: line, as: UTF8.self))
    }

    /// Ends the device: SIGTERM, and SIGKILL if it has not gone after two seconds.
    func stop(_ device: Process) {
        device.terminate()
        for _ in 0..<20 where device.isRunning { Thread.sleep(forTimeInterval: 0.1) }
        if device.isRunning { kill(device.processIdentifier, SIGKILL) }
        device.waitUntilExit()
    }

    @Test func readConfigureAndCommandTheVirtualDevice() throws {
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        let (device, url) = try startDevice(scratch)
        defer { stop(device) }

        var r = try flexbms(["get", "Meas/rBmsState", "--device", url])
        #expect(r.status == 0 && r.stdout == "Meas/rBmsState = 3\n", "\(r.stdout)\(r.stderr)")
        r = try flexbms(["get", "Input", "--json", "--device", url])
        #expect(r.stdout == #"{"path":"Input","value":{"wChgEnable":true,"wDisEnable":true}}"# + "\n")
        // A setting: refused without the expert token, accepted with it, saved to the file.
        r = try flexbms(["set", "Conf/sCellOvervoltage_V", "3.7", "--device", url])
        #expect(r.status == 1 && r.stderr.contains("A1 Unauthorized"))
        r = try flexbms(["set", "Conf/sCellOvervoltage_V", "3.7", "--token", "expert", "--device", url])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try scratch.read("device.json").contains("\"sCellOvervoltage_V\": 3.7"))
        r = try flexbms(["set", "Conf/sCellOvervoltage_V", "3.55", "--token", "expert", "--device", url])
        #expect(r.status == 1 && r.stderr.contains("A9 Conflict") && r.stderr.contains(": sCellChargeVoltage_V: must be below sCellOvervoltage_V"),
                "\(r.stderr)")
        r = try flexbms(["get", "Conf/sCellOvervoltage_V", "--device", url])
        #expect(r.stdout == "Conf/sCellOvervoltage_V = 3.7\n")
        // A wrong token; a preset; an unknown path; a value that is not JSON.
        r = try flexbms(["get", "Meas", "--token", "guess", "--device", url])
        #expect(r.status == 0)   // a wrong token leaves the user role, reading still works
        r = try flexbms(["exec", "Conf/xPresetLFP", "200", "--token", "expert", "--device", url])
        #expect(r.status == 0 && r.stdout == "Conf/xPresetLFP → 1\n", "\(r.stderr)")
        r = try flexbms(["get", "Conf/sNominalCapacity_Ah", "--device", url])
        #expect(r.stdout == "Conf/sNominalCapacity_Ah = 200\n")
        r = try flexbms(["get", "Meas/nothing", "--device", url])
        #expect(r.status == 1 && r.stderr.contains("A4 Not Found"))
        r = try flexbms(["set", "Input/wChgEnable", "{x", "--device", url])
        #expect(r.status != 0 && r.stderr.contains("not a JSON value"))
        // The monitor's one-shot view.
        r = try flexbms(["monitor", "--once", "--device", url])
        #expect(r.status == 0 && r.stdout.hasPrefix("pack ") && r.stdout.contains("  cell 16  ")
                && r.stdout.contains("alarms: none") && r.stdout.contains("state NORMAL"), "\(r.stdout)")
        // The event log: the configuration changes above are in it.
        r = try flexbms(["log", "--device", url])
        #expect(r.status == 0 && r.stdout.contains(" s  config  (NORMAL)"), "\(r.stdout)")
        // The schema lists every object with its ID, type and access.
        r = try flexbms(["schema", "--json", "--device", url])
        let rows = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [[String: Any]]
        let ov = rows.first { $0["path"] as? String == "Conf/sCellOvervoltage_V" }
        #expect(ov?["id"] as? Int == 0x60 && ov?["type"] as? String == "f32" && ov?["access"] as? Int == 0x67)
        #expect(rows.count > 140)
    }

    /// The same commands in text mode over the virtual device's serial port.
    @Test func overTheSerialPort() throws {
        let (process, text) = try startDevice(printing: "--thingset-pty")
        defer { stop(process) }
        #expect(text.hasPrefix("ThingSet serial on /dev/pts/"), "\(text)")
        let device = "serial://" + (text.split(separator: " ").last.map(String.init) ?? "")
        var r = try flexbms(["get", "Meas/rBmsState", "--device", device])
        #expect(r.status == 0 && r.stdout == "Meas/rBmsState = 3\n", "\(r.stdout)\(r.stderr)")
        r = try flexbms(["set", "Conf/sCellOvervoltage_V", "3.7", "--device", device])
        #expect(r.status == 1 && r.stderr.contains("A1 Unauthorized"))
        r = try flexbms(["set", "Conf/sCellOvervoltage_V", "3.7", "--token", "expert", "--device", device])
        #expect(r.status == 0, "\(r.stderr)")
        r = try flexbms(["get", "Conf/sCellOvervoltage_V", "--device", device])
        #expect(r.stdout == "Conf/sCellOvervoltage_V = 3.700\n")
        r = try flexbms(["log", "--device", device])
        #expect(r.stdout.contains(" s  config  (NORMAL)"), "\(r.stdout)")
        r = try flexbms(["schema", "--device", device])
        #expect(r.status == 2 && r.stderr.contains("needs a tcp:// or slcan:// device"))
    }

    /// The PAYG record survives a restart of the virtual device (its "flash" is --payg-state):
    /// the credit stays and the token stays used.
    @Test func creditAndUsedTokensSurviveARestart() throws {
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        let key = ["--payg-key", "a29ab82edc5fbbc41ec9530f6dac86b1", "--payg-starting-code", "123456789",
                   "--payg-state", scratch.path("payg.json")]
        func start() throws -> (Process, String) { try startDevice(["--cells", "8", "--capacity", "100"] + key) }
        let token = try flexbms(["payg", "token", "--key", "a29ab82edc5fbbc41ec9530f6dac86b1", "--starting-code", "123456789",
                                 "--count", "1", "--days", "2"]).stdout.split(separator: "\n")[0].split(separator: " ")[1]
        var (device, url) = try start()
        var r = try flexbms(["exec", "PAYG/xPaygToken", "\"\(token)\"", "--device", url])
        #expect(r.stdout == "PAYG/xPaygToken → 0\n", "\(r.stdout)\(r.stderr)")
        stop(device)
        (device, url) = try start()
        defer { stop(device) }
        r = try flexbms(["get", "PAYG/rPaygCreditLeft_s", "--device", url])
        let left = Int(r.stdout.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        #expect(left > 2 * 86_400 - 600 && left <= 2 * 86_400, "\(r.stdout)")
        r = try flexbms(["exec", "PAYG/xPaygToken", "\"\(token)\"", "--device", url])
        #expect(r.stdout == "PAYG/xPaygToken → 1\n", "\(r.stdout)")
    }

    /// The same commands in binary mode over CAN, through the virtual device's slcan adapter.
    @Test func overCANThroughAnSlcanAdapter() throws {
        let (process, text) = try startDevice(printing: "--thingset-slcan-pty")
        defer { stop(process) }
        #expect(text.hasPrefix("ThingSet CAN (slcan) on /dev/pts/"), "\(text)")
        let device = "slcan://" + (text.split(separator: " ").last.map(String.init) ?? "")
        Thread.sleep(forTimeInterval: 0.8)  // the node claims its address 500 ms after the start
        var r = try flexbms(["get", "Meas/rBmsState", "--device", device])
        #expect(r.status == 0 && r.stdout == "Meas/rBmsState = 3\n", "\(r.stdout)\(r.stderr)")
        // A whole group: an answer of many frames.
        r = try flexbms(["get", "Meas", "--json", "--device", device])
        #expect(r.status == 0 && r.stdout.contains("\"rCellVoltages_V\":["), "\(r.stderr)")
        r = try flexbms(["set", "Conf/sCellOvervoltage_V", "3.7", "--token", "expert", "--device", device])
        #expect(r.status == 0, "\(r.stderr)")
        r = try flexbms(["set", "Conf/sCellOvervoltage_V", "3.55", "--token", "expert", "--device", device])
        #expect(r.status == 1 && r.stderr.contains("must be below sCellOvervoltage_V"))
        r = try flexbms(["schema", "--json", "--device", device])
        let rows = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(rows.count > 160, "\(r.stderr)")
    }

    @Test func noDeviceIsAClearError() throws {
        let r = try flexbms(["get", "Meas", "--device", "tcp://127.0.0.1:1"])
        #expect(r.status == 2 && r.stderr.contains("cannot connect"))
        let missing = try flexbms(["get", "Meas", "--device", "serial:///dev/nonexistent-tty"])
        #expect(missing.status == 2 && missing.stderr.contains("cannot connect: /dev/nonexistent-tty"))
        let bad = try flexbms(["get", "Meas", "--device", "udp://127.0.0.1:9002"])
        #expect(bad.status == 2 && bad.stderr.contains("--device must be tcp://HOST:PORT, serial:///dev/ttyX or slcan:///dev/ttyX"))
    }
}

import Foundation
import Testing

/// `flexbms emulate`: the firmware application on the emulated BQ76952 and pack.
struct EmulateCommandTests {
    @Test func aShortIsCutAndHeld() throws {
        let r = try flexbms(["emulate", "--duration", "2m", "--fault", "short@60s", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("#event t=60.0 trip short_circuit"), "\(r.stdout)")
        let json = try #require(r.stdout.range(of: "{").map { String(r.stdout[$0.lowerBound...]) })
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(summary["discharge_fet"] as? Bool == false)
        #expect(summary["charge_fet"] as? Bool == true)
        #expect((summary["trips"] as? [String])?.count == 1)
        #expect(summary["overruns"] as? Int == 0)
        #expect(summary["control_steps"] as? Int == 1201)
    }

    @Test func badArgumentsAndABadFlashFileAreRefused() throws {
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        var r = try flexbms(["emulate", "--fault", "bogus@1m"])
        #expect(r.status != 0 && r.stderr.contains("the kind must be short, afe-silent or cell-high:N"))
        r = try flexbms(["emulate", "--fault", "cell-high:17@1m"])
        #expect(r.status != 0 && r.stderr.contains("N 1 to 16"))
        r = try flexbms(["emulate", "--cells", "0"])
        #expect(r.status != 0 && r.stderr.contains("--cells must be 1 to 16"))
        try scratch.write("flash.bin", "not a flash image")
        r = try flexbms(["emulate", "--duration", "1s", "--flash", scratch.path("flash.bin")])
        #expect(r.status != 0 && r.stderr.contains("holds 17 bytes, not the 8192"), "\(r.stderr)")
        #expect(try scratch.read("flash.bin") == "not a flash image", "a file that is not the flash is left alone")
    }

    /// Settings changed over the console pty survive a restart on the same flash file, and
    /// the estimator state saved after an hour comes back.
    @Test func settingsAndStateSurviveARestart() throws {
        let scratch = try Scratch()
        defer { scratch.cleanup() }
        let flash = scratch.path("flash.bin")
        let process = Process()
        process.executableURL = try flexbmsBinary()
        process.arguments = ["emulate", "--realtime", "--speed", "2000", "--duration", "62m", "--flash", flash]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) {
            line += byte
        }
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.hasPrefix("console on /dev/pts/"), "\(text)")
        let device = "serial://" + (text.split(separator: " ").dropFirst(2).first.map(String.init) ?? "")
        var r = try flexbms(["set", "Conf/sCellOvervoltage_V", "3.7", "--token", "expert", "--device", device])
        #expect(r.status == 0, "\(r.stderr)")
        r = try flexbms(["get", "Conf/sCellOvervoltage_V", "--device", device])
        #expect(r.stdout == "Conf/sCellOvervoltage_V = 3.700\n", "\(r.stdout)\(r.stderr)")
        _ = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        r = try flexbms(["emulate", "--duration", "1s", "--flash", flash, "--json"])
        #expect(r.stdout.contains("settings: from flash"), "\(r.stdout)")
        #expect(r.stdout.contains("state: restored"), "\(r.stdout)")
    }
}

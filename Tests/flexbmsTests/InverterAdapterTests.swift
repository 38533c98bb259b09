import FlexBMSLink
import Foundation
import Glibc
import Testing
import ThingSet

/// The virtual battery driving a real slcan adapter (`--inverter-slcan DEVICE`), against the
/// adapter emulation of `SLCANPort` on a pseudo-terminal: the adapter is opened at 500 kbit/s,
/// the battery's frames arrive, an inverter's keep-alive is heard.
@Suite struct InverterAdapterTests {
    @Test func theVirtualBatteryTalksThroughAnSlcanAdapter() throws {
        let adapter = try SLCANPort()
        let process = Process()
        process.executableURL = try flexbmsBinary()
        process.arguments = ["sim", "--realtime", "--speed", "10", "--cells", "16", "--capacity", "100",
                             "--inverter", "victron", "--inverter-slcan", adapter.path, "--duration", "1h"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            process.terminate()
            for _ in 0..<20 where process.isRunning { Thread.sleep(forTimeInterval: 0.1) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        var frames: [CANFrame] = []
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline {
            frames += adapter.receive()
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(adapter.open)   // the battery opened the adapter (S6, O)
        let ids = Set(frames.map(\.id))
        #expect(frames.allSatisfy { !$0.extended })
        #expect(ids == [0x351, 0x355, 0x356, 0x35A, 0x35E, 0x35F, 0x370, 0x371, 0x372, 0x373, 0x374, 0x375,
                        0x376, 0x377, 0x378, 0x379, 0x382])
        var keepAlive = CANFrame(id: 0x305)
        keepAlive.extended = false
        for _ in 0..<8 { keepAlive.append(0) }
        adapter.send(keepAlive)
        Thread.sleep(forTimeInterval: 1)
        process.terminate()
        process.waitUntilExit()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(printed.contains("Inverter CAN through the slcan adapter at \(adapter.path), 500 kbit/s"))
        #expect(printed.contains("inverter_heard"), "\(printed)")
    }

    @Test func aMissingAdapterIsNamed() throws {
        let r = try flexbms(["sim", "--realtime", "--duration", "10s", "--inverter", "pylon",
                             "--inverter-slcan", "/nonexistent/ttyACM9"])
        #expect(r.status != 0 && r.stderr.contains("--inverter-slcan: cannot open /nonexistent/ttyACM9: No such file or directory"),
                "\(r.stderr)")
        let noProfile = try flexbms(["sim", "--realtime", "--duration", "10s", "--inverter-slcan", "/dev/null"])
        #expect(noProfile.status != 0 && noProfile.stderr.contains("need --inverter pylon|victron|sma"))
    }
}

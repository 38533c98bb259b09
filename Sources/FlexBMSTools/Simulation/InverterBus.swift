import BMSCore
import Firmware
import Foundation
import Inverter
import PackSim

/// The inverter side of a simulated run: the firmware's inverter bridge fed after every BMS
/// step, the frames it sends (and the inverter's keep-alives) written in candump's log format,
/// and an inverter that sends its keep-alive once a second — an SMA Sunny Island with its own
/// view of the battery, the others empty — unless the `inverter-silent` fault is in force.
///
/// With steps longer than the frame spacing, each frame goes out at its slot with the data of
/// the latest step, as a CAN task that runs more often than the control step would send it.
public struct SimulatedInverterBus {
    public private(set) var bridge: InverterBridge
    var log: CANLogWriter?
    public private(set) var framesSent = 0
    public private(set) var keepAlivesSent = 0
    var nextKeepAliveMs: UInt64 = 1000
    /// Whether an inverter sits on the CAN bus (sending keep-alives); without it the bus
    /// serves only the RS485 side.
    public let canInverter: Bool
    /// Write the log at every step (a real-time run ends by a signal, not by `finish`).
    public var flushEachStep = false
    /// The inverter is outside (a real bus, or a pty a peer drives): its keep-alives come
    /// through `receive`, and the caller takes the frames as they fall due (`framesDue`).
    public var externalInverter = false

    public init(settings: InverterSettings, logPath: String?, canInverter: Bool = true) throws(CANLogError) {
        bridge = InverterBridge(settings: settings)
        self.canInverter = canInverter
        if let logPath { log = try CANLogWriter(path: logPath) }
    }

    mutating func pollSilence<P: PowerProfile>(_ sim: inout Simulation<P>) {
        let now = sim.time.bmsTimestamp
        if bridge.pollKeepAlive(now: now) == .silent {
            let seconds = Float(Int(bridge.keepAlive.timeoutMs)) / 1000
            sim.withBatteryManager { $0.recordInverter(heard: false, silentSeconds: seconds, at: now) }
        }
    }

    /// With an outside inverter: the frames due by simulated time `ms` (the latest step's
    /// data), each at its own slot of the second, logged as they go.
    public mutating func framesDue(atMilliseconds ms: UInt64) -> [InverterFrame] {
        var out: [InverterFrame] = []
        let now = Timestamp(milliseconds: UInt32(truncatingIfNeeded: ms))
        while let (frame, _) = bridge.nextFrame(now: now) {
            out.append(frame)
            framesSent += 1
            if log != nil { log!.write(frame, atMilliseconds: ms) }
        }
        if !out.isEmpty, flushEachStep, log != nil { try? log!.flush() }
        return out
    }

    /// A frame from an outside inverter bus at simulated time `ms`: its keep-alive is logged
    /// (`inverter_heard`) when it is the first or ends a silence.
    public mutating func receive<P: PowerProfile>(_ frame: InverterFrame, _ sim: inout Simulation<P>) {
        keepAlivesSent += frame.id == 0x305 ? 1 : 0
        let now = sim.time.bmsTimestamp
        if bridge.receive(frame, now: now) == .heard {
            sim.withBatteryManager { $0.recordInverter(heard: true, at: now) }
        }
        if log != nil { log!.write(frame, atMilliseconds: sim.time.milliseconds) }
    }

    /// The serial number the RS485 side reports (0x93), e.g. the ThingSet node ID.
    public mutating func setSerialNumber(_ text: String) {
        Array(text.utf8.prefix(16)).withUnsafeBufferPointer { bridge.rs485.identity.setSerialNumber($0) }
    }

    /// The Pylontech RS485 address of this pack.
    public mutating func setRS485Address(_ address: UInt8) { bridge.rs485.address = address }

    /// The RS485 answer to one request line; 0 bytes when none is due.
    public mutating func answerRS485(_ line: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        bridge.answerRS485(line, into: out)
    }

    /// After the simulation's step: the inverter's keep-alives up to now, the bridge updated
    /// from the BMS, and the frames due.
    public mutating func afterStep<P: PowerProfile>(_ sim: inout Simulation<P>, _ record: StepRecord) {
        let nowMs = sim.time.milliseconds
        let bmsNow = sim.time.bmsTimestamp
        var lines: [(UInt64, InverterFrame)] = []
        guard canInverter else {
            // No CAN inverter: the bridge serves the RS485 side only.
            bridge.update(sim.bms, now: bmsNow)
            return
        }
        while !externalInverter && nextKeepAliveMs <= nowMs {
            let at = nextKeepAliveMs
            nextKeepAliveMs += 1000
            guard !sim.isActive(.inverterSilent) else { continue }
            let frame = keepAlive(record)
            lines.append((at, frame))
            keepAlivesSent += 1
            let stamp = bmsNow.advanced(byMilliseconds: UInt32(truncatingIfNeeded: at &- nowMs))
            if bridge.receive(frame, now: stamp) == .heard {
                sim.withBatteryManager { $0.recordInverter(heard: true, at: stamp) }
            }
        }
        if externalInverter {
            bridge.update(sim.bms, now: bmsNow)
            pollSilence(&sim)
            return
        }
        // Frames due before this step carry the previous step's data, as they would on a
        // bus; the step's own data goes out from its own instant on.
        let justBefore = bmsNow.advanced(byMilliseconds: UInt32.max)
        while let (frame, due) = bridge.nextFrame(now: justBefore) {
            lines.append((nowMs - UInt64(bmsNow.milliseconds(since: due)), frame))
            framesSent += 1
        }
        bridge.update(sim.bms, now: bmsNow)
        pollSilence(&sim)
        while let (frame, due) = bridge.nextFrame(now: bmsNow) {
            lines.append((nowMs - UInt64(bmsNow.milliseconds(since: due)), frame))
            framesSent += 1
        }
        guard log != nil else { return }
        lines.sort { $0.0 < $1.0 }
        for (ms, frame) in lines { log!.write(frame, atMilliseconds: ms) }
        if flushEachStep { try? log!.flush() }
    }

    /// The inverter's 0x305: SMA reports the battery as it measures it (current negative
    /// while charging); the Pylon-mode inverters and the Victron GX send it empty.
    func keepAlive(_ r: StepRecord) -> InverterFrame {
        var f = InverterFrame(id: 0x305)
        guard bridge.settings.profile == .sma else {
            f.pad(to: 8)
            return f
        }
        f.appendLE(UInt16(clamping: Int((r.packVoltage * 10).rounded())))
        f.appendLE(Int16(clamping: Int((-r.current * 10).rounded())))
        f.appendLE(Int16(clamping: Int((bridge.report.temperature * 10).rounded())))
        f.appendLE(Int16(clamping: Int((LVCAN.reportedSOC(bridge.report, bridge.settings) * 1000).rounded())))
        return f
    }

    /// Writes what is buffered; call at the end of the run.
    public mutating func finish() throws(CANLogError) {
        try log?.flush()
    }
}

public struct CANLogError: Error, CustomStringConvertible {
    public let description: String
}

/// candump's log format (`candump -l`): `(seconds.micros) can0 351#1402E803DC05CC01`, the
/// times counted from the start of the run. Buffered: a week of frames is millions of lines.
public struct CANLogWriter {
    let handle: FileHandle
    let path: String
    var buffer: [UInt8] = []
    var failed: String?

    public init(path: String) throws(CANLogError) {
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let h = FileHandle(forWritingAtPath: path) else {
            throw CANLogError(description: "--can-log: cannot create \(path)")
        }
        handle = h
        self.path = path
        buffer.reserveCapacity(1 << 16)
    }

    static let digits = Array("0123456789ABCDEF".utf8)

    public mutating func write(_ frame: InverterFrame, atMilliseconds ms: UInt64) {
        buffer.append(UInt8(ascii: "("))
        let seconds = String(ms / 1000)
        for _ in seconds.count..<10 { buffer.append(UInt8(ascii: "0")) }
        buffer.append(contentsOf: seconds.utf8)
        buffer.append(UInt8(ascii: "."))
        let micros = String((ms % 1000) * 1000)
        for _ in micros.count..<6 { buffer.append(UInt8(ascii: "0")) }
        buffer.append(contentsOf: micros.utf8)
        buffer.append(contentsOf: ") can0 ".utf8)
        for shift in [8, 4, 0] { buffer.append(Self.digits[Int(frame.id >> UInt16(shift)) & 0xF]) }
        buffer.append(UInt8(ascii: "#"))
        for i in 0..<frame.count {
            buffer.append(Self.digits[Int(frame[i] >> 4)])
            buffer.append(Self.digits[Int(frame[i] & 0xF)])
        }
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 16 { try? flush() }
    }

    public mutating func flush() throws(CANLogError) {
        guard failed == nil else { throw CANLogError(description: failed!) }
        guard !buffer.isEmpty else { return }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            failed = "--can-log: cannot write \(path): \(error.localizedDescription)"
            throw CANLogError(description: failed!)
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

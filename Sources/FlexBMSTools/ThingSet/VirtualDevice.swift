import BMSCore
import Firmware
import FlexBMSLink
import Foundation
import Inverter
import PAYG
import PackSim
import ThingSet

/// The virtual device: the simulated pack stepped in real time (or faster), with the BMS's
/// ThingSet objects served over TCP, as the firmware will serve them from a board.
public struct VirtualDevice<P: PowerProfile> {
    public var simulation: Simulation<P>
    public var tokens: AuthTokens
    public var nodeID: InlineArray<16, UInt8>
    /// Where an applied configuration is saved (the device's "flash"), if anywhere.
    public var configPath: String?
    var lastMeasurement: BMSCore.Measurement?
    /// The pay-as-you-go decoder, if the device is provisioned; its clock is the simulated time.
    public var payg: PAYGDevice?
    /// Where the PAYG record is kept (the device's flash), and the device-on seconds it
    /// resumed from: the PAYG clock is that plus the simulated time.
    public var paygStatePath: String?
    public var paygClockStart: UInt64 = 0
    var paygSavedAt: UInt64 = 0
    var paygSavedState: PAYGState?

    /// The PAYG clock now, device-on seconds.
    var paygNow: UInt64 { paygClockStart + simulation.time.milliseconds / 1000 }
    /// The last events, served as `Rec/EventLog_32`.
    public var log = EventLog()
    /// `_Reporting/mLive`, and when the last report went out.
    /// The serial console (ThingSet text mode and keypad-style token entry).
    var console = Console()
    /// The CAN side, when an slcan port is open, and the wall clock it counts from.
    var canNode: ThingSetCANNode?
    var start = Date()
    var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
    var reportEnable = true
    var reportPeriodMs: UInt32 = 1000
    /// The inverter side (CAN frames to a log, the Pylontech RS485 responder), fed after
    /// every step.
    public var inverter: SimulatedInverterBus?
    var lastReport = Date()

    public init(simulation: Simulation<P>, tokens: AuthTokens, configPath: String?) {
        self.simulation = simulation
        self.tokens = tokens
        self.configPath = configPath
        // A node ID from the seed: 16 upper-case hex digits.
        let hex = String(format: "%016llX", 0xF1E8_B500_0000_0000 | simulation.setup.seed)
        var id = InlineArray<16, UInt8>(repeating: 0)
        for (k, c) in hex.utf8.prefix(16).enumerated() { id[k] = c }
        nodeID = id
    }

    /// Runs until `durationMs` of simulated time (forever with `nil`), `speed` simulated
    /// seconds per second, answering requests between steps; `log` gets each BMS event as a line.
    public mutating func run(speed: Double, server: ThingSetTCPServer?, pty: TerminalPort? = nil, slcan: SLCANPort? = nil,
                             rs485: TerminalPort? = nil, inverterCAN: (any CANPort)? = nil, durationMs: UInt64?,
                             log: (String) -> Void) {
        // Serial lines are polled every 5 ms: inverters expect an answer within about 50 ms,
        // and the inverter bus's frames go out 20-100 ms apart.
        let serial = pty != nil || rs485 != nil || inverterCAN != nil
        let start = Date()
        self.start = start
        if slcan != nil {
            var discovery = CANFrame(id: 0)
            canNode = ThingSetCANNode(claim: CANAddressClaim(eui: nodeID8, preferred: 0x14, random: random(), now: 0,
                                                             discovery: &discovery))
            slcan?.send(discovery)
        }
        while durationMs.map({ simulation.time.milliseconds < $0 }) ?? true {
            if let payg {
                // The credit as the firmware hands it over every second.
                let now = paygNow
                savePAYG(force: false)
                simulation.updateCredit(PAYGCredit(enforced: payg.state.enabled, secondsLeft: payg.secondsLeft(now: now),
                                                   secondsExpired: payg.secondsExpired(now: now)))
            }
            let record = simulation.step()
            let stepWall = Date()
            lastMeasurement = record.measurement
            if var bus = inverter {
                bus.afterStep(&simulation, record)
                inverter = bus
            }
            while let e = simulation.nextEvent() {
                self.log.append(e)
                let r = SimulationRunner.eventRecord(e, at: simulation.time)
                var line = String(format: "t=%.1f s %@", r.seconds, r.kind)
                if let f = r.fault { line += " \(f)" }
                if let c = r.cell { line += " cell \(c)" }
                if let s = r.sensor { line += " sensor \(s)" }
                if let o = r.outcome { line += " \(o)" }
                log(line + " (\(r.state))")
            }
            let due = start.addingTimeInterval(Double(simulation.time.milliseconds) / 1000 / speed)
            repeat {
                let wait = max(0, min(due.timeIntervalSinceNow, 0.05))
                if let server {
                    server.poll(timeoutMs: Int32(wait * (serial ? 100 : 1000))) { request, channel in answer(request, &channel) }
                } else if wait > 0 {
                    Thread.sleep(forTimeInterval: serial ? min(wait, 0.005) : wait)
                }
                if let pty { serveText(pty) }
                if let rs485 { serveRS485(rs485) }
                if let inverterCAN {
                    // Simulated time now: the step's, plus the wall time since it at `speed`.
                    let ahead = UInt64(max(0, Date().timeIntervalSince(stepWall)) * speed * 1000)
                    serveInverterCAN(inverterCAN, atMilliseconds: simulation.time.milliseconds
                                     + min(ahead, simulation.setup.stepMilliseconds - 1))
                }
                if let slcan { serveCAN(slcan) }
            } while Date() < due
        }
    }

    /// The node ID as its 16 hex digits.
    public var nodeIDText: String { String(decoding: (0..<16).map { nodeID[$0] }, as: UTF8.self) }

    /// The node ID's 8 bytes (its 16 hex digits), the payload of the CAN address claim.
    var nodeID8: InlineArray<8, UInt8> {
        var eui = InlineArray<8, UInt8>(repeating: 0)
        for k in 0..<8 {
            let hex = String(decoding: [nodeID[2 * k], nodeID[2 * k + 1]], as: UTF8.self)
            eui[k] = UInt8(hex, radix: 16) ?? 0
        }
        return eui
    }

    /// A random byte for the address claim.
    mutating func random() -> UInt8 {
        seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: seed >> 33)
    }

    /// The CAN frames the host sent through the slcan adapter, between two steps.
    mutating func serveCAN(_ port: SLCANPort) {
        guard var can = canNode else { return }
        let now = UInt32(truncatingIfNeeded: Int(Date().timeIntervalSince(start) * 1000))
        let frames = port.receive()
        var node = ThingSetNode(model: objects())
        for f in frames where f.extended {
            let r = random()
            can.receive(f, now: now, random: r, node: &node) { port.send($0) }
        }
        can.tick(now: now) { port.send($0) }
        canNode = can
        if !frames.isEmpty { takeBack(node.model) }
    }

    /// The inverter bus through an slcan adapter: the inverter's frames in, the battery's
    /// frames out as they fall due.
    mutating func serveInverterCAN(_ port: any CANPort, atMilliseconds ms: UInt64) {
        guard var bus = inverter else { return }
        for f in port.receive() where !f.extended {
            var frame = InverterFrame(id: UInt16(f.id & 0x7FF))
            for k in 0..<min(f.count, 8) { frame.append(f.data[k]) }
            bus.receive(frame, &simulation)
        }
        for frame in bus.framesDue(atMilliseconds: ms) {
            var out = CANFrame(id: UInt32(frame.id))
            out.extended = false
            for k in 0..<frame.count { out.append(frame[k]) }
            port.send(out)
        }
        inverter = bus
    }

    /// The RS485 requests pending (CR-terminated frames), between two steps.
    mutating func serveRS485(_ port: TerminalPort) {
        guard var bus = inverter else { return }
        port.serveLines(separator: 0x0D) { line in
            var out = [UInt8](repeating: 0, count: 256)
            let n = line.withUnsafeBufferPointer { l in
                out.withUnsafeMutableBufferPointer { bus.answerRS485(l, into: $0) }
            }
            return Array(out[0..<n])
        }
        inverter = bus
    }

    /// The serial port's pending lines, between two steps.
    mutating func serveText(_ pty: TerminalPort) {
        var node = ThingSetNode(model: objects())
        var console = self.console
        pty.serveLines { line in
            let count = line.count
            line += [0, 0]
            var out = [UInt8](repeating: 0, count: 8192)
            let n = line.withUnsafeMutableBufferPointer { l in
                out.withUnsafeMutableBufferPointer { o in console.process(l, count: count, node: &node, into: o) }
            }
            return Array(out[0..<n])
        }
        self.console = console
        takeBack(node.model)
        // mLive every period of wall time, unless a shell-style client is on the port.
        if reportEnable && Date().timeIntervalSince(lastReport) * 1000 >= Double(reportPeriodMs) {
            lastReport = Date()
            if console.unsolicitedOutputAllowed { pty.publish(node.model, subset: 0x31) }
        }
    }

    func objects() -> BMSObjects {
        var objects = BMSObjects(bms: simulation.bms, tokens: tokens, nodeID: nodeID, firmwareVersion: "virtual",
                                 now: simulation.time.bmsTimestamp)
        objects.measurement = lastMeasurement
        objects.payg = payg
        objects.paygNow = paygNow
        objects.log = log
        objects.reportEnable = reportEnable
        objects.reportPeriodMs = reportPeriodMs
        return objects
    }

    /// What a request changed goes back into the simulation (and the configuration file).
    mutating func takeBack(_ model: BMSObjects) {
        let bms = model.bms
        simulation.withBatteryManager { $0 = bms }
        payg = model.payg
        savePAYG(force: false)
        reportEnable = model.reportEnable
        reportPeriodMs = model.reportPeriodMs
        if model.configChanged, let configPath {
            try? ConfigFile.write(bms.config, to: configPath)
        }
    }

    /// Stores the PAYG record when its state changed, or its clock every minute of device time,
    /// so a restart resumes with the credit it had (and a clock that never runs back).
    mutating func savePAYG(force: Bool) {
        guard let payg, let path = paygStatePath else { return }
        let now = paygNow
        guard force || payg.state != paygSavedState || now >= paygSavedAt + 60 else { return }
        try? PAYGFiles.write(PAYGFiles.Stored(state: payg.state, clock: now), to: path)
        paygSavedAt = now
        paygSavedState = payg.state
    }

    /// One request on the BMS's objects, between two steps.
    mutating func answer(_ request: [UInt8], _ channel: inout ThingSetChannel) -> [UInt8] {
        var node = ThingSetNode(model: objects())
        var out = [UInt8](repeating: 0, count: 8192)
        let n = request.withUnsafeBufferPointer { m in
            out.withUnsafeMutableBufferPointer { o in node.processBinary(m, into: o, channel: &channel) }
        }
        takeBack(node.model)
        return Array(out[0..<n])
    }
}

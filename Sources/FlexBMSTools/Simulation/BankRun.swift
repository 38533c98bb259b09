import BMSCore
import Firmware
import Foundation
import Inverter
import PackSim
import ThingSet

/// A bank of packs in parallel, each with its own BMS and its own firmware-side bank link,
/// on one DC bus with one inverter: the closed loop of `flexbms sim --packs N`.
///
/// Each step: the bus (`ParallelSimulation`); every pack publishes its share on the bank's
/// CAN bus (ThingSet single-frame reports, `BankLink`) and reads the others'; each pack's
/// join check sets the directions it may connect in; the pack that finds itself leader
/// (lowest address alive) speaks for the bank on the inverter bus (`InverterBridge` with the
/// `BankView`), and the simulated inverter obeys the current limits of the last 0x351 it read.
/// Pack k has node address k. The `can-silent:K` fault cuts pack K off both CAN buses.
public struct SimulatedBank<P: PowerProfile> {
    public var sim: ParallelSimulation<P>
    public private(set) var links: [BankLink]
    public private(set) var bridges: [InverterBridge]
    public let policy: BankPolicy
    var log: CANLogWriter?
    var nextKeepAliveMs: UInt64 = 1000
    /// Who spoke to the inverter at the last step (its address), and since when.
    public private(set) var leader: UInt8?
    public private(set) var leaderChanges: [(seconds: Double, address: UInt8)] = []
    public private(set) var framesSent = 0
    /// The last 0x351 the inverter read: when, and its current limits.
    public private(set) var lastLimits: (ms: UInt64, charge: Float, discharge: Float)?
    public private(set) var limitHistory: [(ms: UInt64, charge: Float, discharge: Float)] = []
    public private(set) var stats: [PackBankStats]
    /// The last fault each pack learned of another (what its `Bank/rFault…` objects show).
    public private(set) var lastBankFaults: [BankNotice?]
    var previousLimits: [ChargeLimits?]
    /// Which packs were connected to the bus when the last step began.
    public private(set) var connectedBeforeStep: [Bool] = []

    public init(sim: ParallelSimulation<P>, inverter: InverterSettings, joinDifference: Float,
                policy: BankPolicy = .strict, logPath: String?) throws(CANLogError) {
        self.sim = sim
        self.policy = policy
        links = []
        bridges = []
        stats = []
        previousLimits = Array(repeating: nil, count: sim.packs.count)
        lastBankFaults = Array(repeating: nil, count: sim.packs.count)
        for i in sim.packs.indices {
            let address = UInt8(i + 1)
            let own = PackShare(sim.packs[i].bms, address: address) ?? PackShare(address: address)
            links.append(BankLink(own: own, joinDifference: joinDifference))
            bridges.append(InverterBridge(settings: inverter))
            stats.append(PackBankStats())
        }
        if let logPath { log = try CANLogWriter(path: logPath) }
    }

    func silent(_ i: Int) -> Bool { sim.packs[i].isActive(.canSilent) }

    /// One step; `events` gets every BMS event with its pack number (from 1).
    public mutating func step(events: (Int, BMSEvent) -> Void) -> BankStepRecord {
        connectedBeforeStep = sim.packs.map { $0.bms.command.switches.chargeOn || $0.bms.command.switches.dischargeOn }
        // Frames due before this step carry the last step's data, as on a real bus.
        var lines: [(UInt64, InverterFrame)] = []
        if let address = leader {
            let i = Int(address) - 1
            let nextMs = sim.time.milliseconds + sim.packs[0].setup.stepMilliseconds
            let justBefore = Timestamp(milliseconds: UInt32(truncatingIfNeeded: nextMs &- 1))
            sendFrames(from: i, now: justBefore, nowMs: nextMs - 1, into: &lines)
        }
        let record = sim.step()
        let nowMs = sim.time.milliseconds
        let now = sim.time.bmsTimestamp
        let count = sim.packs.count

        // The bank bus: every pack publishes, every other pack hears it.
        var frames: [(Int, CANFrame)] = []
        for i in 0..<count {
            guard let share = PackShare(sim.packs[i].bms, address: UInt8(i + 1)) else { continue }
            if silent(i) {
                // Its transceiver is dead: it still knows itself, no one hears it.
                links[i].publish(share, now: now.milliseconds) { _ in }
            } else {
                links[i].publish(share, now: now.milliseconds) { frames.append((i, $0)) }
            }
        }
        for (from, frame) in frames {
            for i in 0..<count where i != from && !silent(i) { links[i].receive(frame, now: now.milliseconds) }
        }
        for i in 0..<count { _ = links[i].expire(now: now.milliseconds) }

        // The join checks.
        for i in 0..<count {
            guard let m = sim.packs[i].bms.lastMeasurement else { continue }
            let own = links[i].roster.own
            let limits = sim.packs[i].bms.limits
            let enables = links[i].gate.update(stack: m.stackVoltage ?? own.openCircuitVoltage, bus: m.packVoltage ?? own.voltage,
                                               current: m.current, resistance: own.resistance,
                                               alone: links[i].roster.count == 1, leader: links[i].roster.isLeader,
                                               chargeSwitch: sim.packs[i].bms.command.switches.chargeOn,
                                               dischargeSwitch: sim.packs[i].bms.command.switches.dischargeOn,
                                               chargeLimit: limits.availableCharge, dischargeLimit: limits.availableDischarge,
                                               now: now.milliseconds)
            sim.packs[i].withBatteryManager { $0.bankDirections = enables }
        }

        // Each pack's current against the limits it had announced before it flowed.
        for i in 0..<count {
            let current = record.packs[i].current
            let limits = previousLimits[i] ?? sim.packs[i].bms.limits
            // What it could carry (a direction held open by the join check reads 0 as a limit).
            stats[i].add(current: current, chargeLimit: limits.availableCharge, dischargeLimit: limits.availableDischarge,
                         healthy: sim.packs[i].bms.protection.active.isEmpty, dt: Double(sim.packs[i].setup.stepMilliseconds) / 1000)
            previousLimits[i] = sim.packs[i].bms.limits
        }

        // The leader speaks for the bank; the others keep their RS485 side current.
        var speaker: Int?
        for i in 0..<count where links[i].roster.isLeader && !silent(i) {
            speaker = speaker ?? i
        }
        for i in 0..<count {
            if i == speaker {
                let bank = BankLimits.of(links[i].roster, policy: policy)
                bridges[i].update(sim.packs[i].bms, bank: BankView(roster: links[i].roster, limits: bank), now: now)
            } else {
                bridges[i].update(sim.packs[i].bms, now: now)
            }
        }
        let address = speaker.map { UInt8($0 + 1) }
        if address != leader {
            leader = address
            if let address { leaderChanges.append((Double(nowMs) / 1000, address)) }
        }
        // Every pack follows the others; the leader logs what it learned (so a new leader
        // knows who was there before it).
        for i in 0..<count {
            let notices = links[i].notices()
            for notice in notices where notice.kind == .fault { lastBankFaults[i] = notice }
            guard i == speaker else { continue }
            for notice in notices {
                sim.packs[i].withBatteryManager {
                    $0.recordBank(notice.eventKind, address: notice.address, fault: notice.fault,
                                  location: notice.location, at: now)
                }
            }
        }
        if let i = speaker {
            while nextKeepAliveMs <= nowMs {
                let at = nextKeepAliveMs
                nextKeepAliveMs += 1000
                var keepAlive = InverterFrame(id: 0x305)
                keepAlive.pad(to: 8)
                lines.append((at, keepAlive))
                let stamp = now.advanced(byMilliseconds: UInt32(truncatingIfNeeded: at &- nowMs))
                if bridges[i].receive(keepAlive, now: stamp) == .heard {
                    sim.packs[i].withBatteryManager { $0.recordInverter(heard: true, at: stamp) }
                }
            }
            sendFrames(from: i, now: now, nowMs: nowMs, into: &lines)
        }
        for i in 0..<count {
            while let e = sim.packs[i].nextEvent() { events(i + 1, e) }
        }
        if log != nil {
            lines.sort { $0.0 < $1.0 }
            for (ms, frame) in lines { log!.write(frame, atMilliseconds: ms) }
        }
        return record
    }

    /// Pack `i`'s ThingSet objects as its firmware serves them: its own, and the bank's as it
    /// sees it when it leads.
    public func objects(pack i: Int) -> BMSObjects {
        var objects = BMSObjects(bms: sim.packs[i].bms, tokens: AuthTokens(expert: "expert", manufacturer: "manufacturer"),
                                 nodeID: InlineArray(repeating: UInt8(ascii: "0")), firmwareVersion: "virtual",
                                 now: sim.time.bmsTimestamp)
        objects.measurement = sim.packs[i].bms.lastMeasurement
        let roster = links[i].roster
        if roster.isLeader {
            objects.bank = BankView(roster: roster, limits: BankLimits.of(roster, policy: policy))
        }
        objects.lastBankFault = lastBankFaults[i]
        return objects
    }

    /// The frames pack `i` has due at `now` onto the inverter bus; the inverter reads each
    /// 0x351's limits as it comes.
    mutating func sendFrames(from i: Int, now: Timestamp, nowMs: UInt64, into lines: inout [(UInt64, InverterFrame)]) {
        while let (frame, due) = bridges[i].nextFrame(now: now) {
            let at = nowMs - UInt64(now.milliseconds(since: due))
            lines.append((at, frame))
            framesSent += 1
            if frame.id == 0x351 {
                let (charge, discharge) = LVCAN.currentLimits(of: frame)
                lastLimits = (at, charge, discharge)
                limitHistory.append((at, charge, discharge))
                sim.inverterLimits = (charge, discharge)
            }
        }
    }

    public mutating func finish() throws(CANLogError) { try log?.flush() }
}

/// One pack's currents in a bank run, against its own limits.
public struct PackBankStats: Sendable {
    public var maxCharge: Float = 0
    public var maxDischarge: Float = 0
    /// Seconds a pack without a fault carried more than its own limit (by more than 1 A, the
    /// current sensor's noise), and the largest excess.
    public var secondsOverLimit: Double = 0
    public var maxOverLimit: Float = 0
    /// When the largest excess happened (s), the current then and the limit it exceeded.
    public var maxOverAt: Double = 0
    public var maxOverCurrent: Float = 0
    public var maxOverOwnLimit: Float = 0
    var clock: Double = 0
    public var chargedAh: Double = 0
    public var dischargedAh: Double = 0

    mutating func add(current: Float, chargeLimit: Float, dischargeLimit: Float, healthy: Bool, dt: Double) {
        clock += dt
        maxCharge = max(maxCharge, current)
        maxDischarge = max(maxDischarge, -current)
        if current > 0 { chargedAh += Double(current) * dt / 3600 } else { dischargedAh -= Double(current) * dt / 3600 }
        guard healthy else { return }
        let over = current > 0 ? current - chargeLimit : -current - dischargeLimit
        if over > 1 {
            secondsOverLimit += dt
            if over > maxOverLimit {
                maxOverLimit = over
                maxOverAt = clock
                maxOverCurrent = current
                maxOverOwnLimit = current > 0 ? chargeLimit : dischargeLimit
            }
        }
    }
}

/// A bank run as reported: per-pack summaries, the events with their pack, the bus.
public struct BankReport {
    public struct Pack {
        public var number: Int
        public var capacityAh: Float
        public var spread: String
        public var socTrueFinal: Float
        public var socEstimatedFinal: Float?
        public var stats: PackBankStats
        public var trips: Int
        public var minCellVoltage: Float
        public var maxCellVoltage: Float
        public var leaderSeconds: Double
    }

    public var packs: [Pack] = []
    /// Events with the pack that logged them; bank events also name the pack they concern.
    public var events: [(pack: Int, record: EventRecord, about: Int?)] = []
    public var simulatedSeconds: Double = 0
    public var wallSeconds: Double = 0
    public var profileName = ""
    public var inverterProfile = ""
    public var unservedLoadWh: Double = 0
    public var framesSent = 0
    public var leaderChanges: [(seconds: Double, address: UInt8)] = []
    /// For every trip of a pack that was connected to the bus: seconds until the first 0x351
    /// whose limit in that direction fell below the last one before the trip (nil: it did not
    /// fall within 10 s).
    public var limitDrops: [(pack: Int, seconds: Double, fault: String, drop: Double?)] = []
    public var seed: UInt64 = 0
}

public enum BankRunner {
    public static func run<P: PowerProfile>(_ bank: inout SimulatedBank<P>, durationMs: UInt64, profileName: String,
                                            progress: ((Double) -> Void)? = nil) -> BankReport {
        var report = BankReport()
        report.profileName = profileName
        let stepMs = bank.sim.packs[0].setup.stepMilliseconds
        let steps = durationMs / stepMs
        let progressEvery = max(1, steps / 100)
        var leaderSeconds = [Double](repeating: 0, count: bank.sim.packs.count)
        var trips: [(pack: Int, seconds: Double, fault: String, direction: Directions)] = []
        let clock = ContinuousClock()
        let start = clock.now
        var n: UInt64 = 0
        while n < steps {
            var stepEvents: [(Int, BMSEvent)] = []
            let record = bank.step { stepEvents.append(($0, $1)) }
            for (pack, e) in stepEvents {
                let r = SimulationRunner.eventRecord(e, at: record.time)
                let about: Int? = (e.kind == .bankFault || e.kind == .packJoined || e.kind == .packLeft) ? Int(e.value) : nil
                report.events.append((pack, r, about))
                if e.kind == .trip, let fault = e.fault, bank.connectedBeforeStep[pack - 1] {
                    trips.append((pack, r.seconds, fault.snakeName, fault.blocks))
                }
            }
            _ = record
            if let leader = bank.leader { leaderSeconds[Int(leader) - 1] += Double(stepMs) / 1000 }
            n += 1
            if let progress, n % progressEvery == 0 { progress(Double(n) / Double(steps)) }
        }
        let elapsed = clock.now - start
        report.wallSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        report.simulatedSeconds = Double(bank.sim.time.milliseconds) / 1000
        report.unservedLoadWh = bank.sim.unservedLoadWh
        report.framesSent = bank.framesSent
        report.leaderChanges = bank.leaderChanges
        report.seed = bank.sim.packs[0].setup.seed
        for (i, p) in bank.sim.packs.enumerated() {
            report.packs.append(BankReport.Pack(
                number: i + 1, capacityAh: p.setup.capacityAh, spread: "\(p.setup.spread.name)",
                socTrueFinal: p.pack.packSOC, socEstimatedFinal: p.bms.packSOC, stats: bank.stats[i],
                trips: report.events.filter { $0.pack == i + 1 && $0.record.kind == "trip" }.count,
                minCellVoltage: p.stats.minCellVoltage, maxCellVoltage: p.stats.maxCellVoltage,
                leaderSeconds: leaderSeconds[i]))
        }
        // How soon the inverter was told less after each trip.
        let history = bank.limitHistory
        for t in trips {
            let ms = UInt64(t.seconds * 1000)
            let before = history.last { $0.ms < ms }
            var drop: Double?
            for h in history where h.ms >= ms && h.ms <= ms + 10_000 {
                guard let b = before else { break }
                let fell = (t.direction.contains(.discharge) && h.discharge < b.discharge)
                    || (t.direction.contains(.charge) && h.charge < b.charge)
                if fell {
                    drop = Double(h.ms - ms) / 1000
                    break
                }
            }
            report.limitDrops.append((t.pack, t.seconds, t.fault, drop))
        }
        return report
    }
}

extension BankReport {
    /// The summary as JSON (with `timing: false`, without the wall-clock field).
    public func summaryJSON(timing: Bool = true) -> String {
        var fields: [(String, String)] = [
            ("packs_count", "\(packs.count)"),
            ("profile", "\"\(profileName)\""),
            ("inverter", "\"\(inverterProfile)\""),
            ("seed", "\(seed)"),
            ("simulated_s", fixed(simulatedSeconds, 1)),
        ]
        if timing { fields.append(("wall_s", fixed(wallSeconds, 3))) }
        fields += [
            ("unserved_load_Wh", fixed(unservedLoadWh, 1)),
            ("inverter_frames_sent", "\(framesSent)"),
            ("leaders", "[" + leaderChanges.map { "{\"t_s\":\(fixed($0.seconds, 1)),\"pack\":\($0.address)}" }.joined(separator: ",") + "]"),
            ("limit_drops", "[" + limitDrops.map { d in
                "{\"pack\":\(d.pack),\"t_s\":\(fixed(d.seconds, 1)),\"fault\":\"\(d.fault)\",\"limit_lowered_after_s\":"
                    + (d.drop.map { fixed($0, 2) } ?? "null") + "}"
            }.joined(separator: ",") + "]"),
            ("packs", "[\n" + packs.map { p in
                "    {\"pack\":\(p.number),\"capacity_Ah\":\(fixed(p.capacityAh, 1)),\"spread\":\"\(p.spread)\","
                    + "\"soc_true_final\":\(fixed(p.socTrueFinal, 4)),\"soc_est_final\":\(p.socEstimatedFinal.map { fixed($0, 4) } ?? "null"),"
                    + "\"max_charge_A\":\(fixed(p.stats.maxCharge, 2)),\"max_discharge_A\":\(fixed(p.stats.maxDischarge, 2)),"
                    + "\"charged_Ah\":\(fixed(p.stats.chargedAh, 1)),\"discharged_Ah\":\(fixed(p.stats.dischargedAh, 1)),"
                    + "\"seconds_over_own_limit\":\(fixed(p.stats.secondsOverLimit, 0)),\"max_over_own_limit_A\":\(fixed(p.stats.maxOverLimit, 2)),"
                    + "\"max_over_at_s\":\(fixed(p.stats.maxOverAt, 0)),\"max_over_current_A\":\(fixed(p.stats.maxOverCurrent, 2)),"
                    + "\"max_over_limit_A\":\(fixed(p.stats.maxOverOwnLimit, 2)),"
                    + "\"trips\":\(p.trips),\"min_cell_V\":\(fixed(p.minCellVoltage, 4)),\"max_cell_V\":\(fixed(p.maxCellVoltage, 4)),"
                    + "\"leader_s\":\(fixed(p.leaderSeconds, 0))}"
            }.joined(separator: ",\n") + "\n  ]"),
        ]
        let eventLines = events.map { (pack, e, about) -> String in
            var parts = ["\"t_s\":\(fixed(e.seconds, 1))", "\"pack\":\(pack)", "\"kind\":\"\(e.kind)\""]
            if let about { parts.append("\"about_pack\":\(about)") }
            if let fault = e.fault { parts.append("\"fault\":\"\(fault)\"") }
            if let cell = e.cell { parts.append("\"cell\":\(cell)") }
            if let sensor = e.sensor { parts.append("\"sensor\":\(sensor)") }
            if e.fault != nil && about == nil { parts.append("\"value\":\(fixed(e.value, 3))") }
            parts.append("\"state\":\"\(e.state)\"")
            return "    {" + parts.joined(separator: ",") + "}"
        }
        var text = "{\n"
        text += fields.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n")
        text += ",\n  \"events\": [" + (eventLines.isEmpty ? "" : "\n" + eventLines.joined(separator: ",\n") + "\n  ") + "]\n}\n"
        return text
    }
}

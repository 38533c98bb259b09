import BMSCore
import Inverter

/// What the leader of a bank knows when it speaks for the bank.
public struct BankView: Sendable {
    public var roster: BankRoster
    public var limits: BankLimits

    public init(roster: BankRoster, limits: BankLimits) {
        self.roster = roster
        self.limits = limits
    }

    /// Every online pack is at its discharge cutoff.
    var allEmpty: Bool {
        var any = false
        for i in 0..<roster.count where roster[i].connected {
            if !roster[i].empty { return false }
            any = true
        }
        return any
    }
}

/// The battery's side of the inverter bus: after each BMS step, what the inverter must be
/// told (`report`), and the frames due by the inverter profile's timing.
///
/// Fault mapping (`specs/inverter-protocols.md` §1.8): a fault that is active is a
/// protection, a fault at its pre-alarm level a warning. The discharge cutoff is the pack
/// being empty, not a failure: it is a low-voltage *warning* with discharge blocked and both
/// force-charge requests, so an SMA Sunny Island (which stops on any alarm) still recharges.
///
/// Energy is counted here from the calibrated voltage and current: kWh in and out (Victron's
/// 0x378) and equivalent full cycles (discharged Ah / nominal Ah). They start at zero with
/// the firmware; keeping them across restarts is the persistence layer's job.
public struct InverterBridge: Sendable {
    public var settings: InverterSettings
    public private(set) var schedule: LVCANSchedule
    public private(set) var keepAlive: InverterKeepAlive
    public private(set) var report = BatteryReport()
    /// Every cell and sensor, the capacities and thresholds, for the RS485 answers.
    public private(set) var pack = PackDetail()
    /// The Pylontech RS485 side (address 2 unless set).
    public var rs485 = PylonResponder()
    /// Whether the report holds a measurement yet: nothing is sent before.
    public private(set) var ready = false
    var chargedWh: Float = 0
    var dischargedWh: Float = 0
    var dischargedAh: Float = 0
    /// kWh and Ah already moved out of the fine accumulators, so Float keeps its precision
    /// over years of counting.
    var chargedKWh: UInt32 = 0
    var dischargedKWh: UInt32 = 0
    var dischargedCapacities: UInt32 = 0
    var lastUpdate: Timestamp?
    var sentLimits: (charge: Float, discharge: Float)?
    /// Milliseconds since the SOC was last at or above 97 %.
    var belowFullChargeMs: UInt64 = 0

    public init(settings: InverterSettings) {
        self.settings = settings
        schedule = LVCANSchedule(profile: settings.profile)
        keepAlive = InverterKeepAlive(timeoutMs: settings.livenessTimeoutMs)
    }

    /// Takes the BMS's state after its step at `now`. A bank's leader passes the bank too: the
    /// inverter is then told about the bank as one battery (`BankLimits`), with the pack of
    /// each extreme named, while the RS485 answers stay this pack's own.
    public mutating func update(_ bms: BatteryManager, bank: BankView? = nil, now: Timestamp) {
        guard let m = bms.lastMeasurement else { return }
        let c = bms.config
        let cells = Int(c.pack.seriesCells)
        var r = BatteryReport()
        let limits = bms.limits
        let allowed = bms.allowedDirections
        r.chargeVoltageLimit = limits.chargeVoltage
        r.dischargeVoltageLimit = limits.dischargeVoltage
        r.chargeCurrentLimit = limits.chargeCurrent
        r.dischargeCurrentLimit = limits.dischargeCurrent
        r.chargeAllowed = allowed.contains(.charge)
        r.dischargeAllowed = allowed.contains(.discharge)
        r.full = bms.fullDetector.isFull
        r.stateOfHealth = bms.stateOfHealth ?? 1
        var sum: Float = 0
        for i in 0..<cells {
            let v = m.cellVoltages[i]
            sum += v
            if i == 0 || v < r.minCellVoltage { r.minCellVoltage = v; r.minCell = .init(index: UInt8(i + 1)) }
            if i == 0 || v > r.maxCellVoltage { r.maxCellVoltage = v; r.maxCell = .init(index: UInt8(i + 1)) }
        }
        r.voltage = m.packVoltage ?? m.stackVoltage ?? sum
        r.current = m.current
        var tSum: Float = 0, tCount = 0
        for i in 0..<m.temperatureCount where m.temperatureRoles[i] == .cell {
            let t = m.temperatures[i]
            guard t.isFinite, t > c.plausibility.thermistorMinimum, t < c.plausibility.thermistorMaximum else { continue }
            if tCount == 0 || t < r.minTemperature { r.minTemperature = t; r.coldest = .init(index: UInt8(i + 1)) }
            if tCount == 0 || t > r.maxTemperature { r.maxTemperature = t; r.warmest = .init(index: UInt8(i + 1)) }
            tSum += t
            tCount += 1
        }
        if tCount > 0 { r.temperature = tSum / Float(tCount) }
        var tripped = bms.protection.active
        let empty = tripped.contains(.dischargeCutoff) || tripped.contains(.cellUndervoltage)
        var approaching = bms.protection.warnings
        if tripped.contains(.dischargeCutoff) {
            tripped.remove(.dischargeCutoff)
            approaching.insert(.dischargeCutoff)
        }
        r.protections = Self.conditions(tripped)
        r.warnings = Self.conditions(approaching)
        r.modulesBlockingCharge = r.chargeAllowed ? 0 : 1
        r.modulesBlockingDischarge = r.dischargeAllowed ? 0 : 1
        r.installedCapacity = c.pack.capacityAh
        r.stateOfCharge = bms.packSOC ?? 0

        var anyEmpty = empty
        if let bank {
            apply(bank, to: &r)
            anyEmpty = bank.limits.online > 0 && !bank.limits.dischargeAllowed && bank.allEmpty
        }
        let soc = r.stateOfCharge
        r.requests = nextRequests(soc: soc, empty: anyEmpty, previous: report.requests, now: now)

        // Energy and charge throughput over the time since the last update (at most a minute:
        // a longer gap is a stall, not a measurement).
        if let last = lastUpdate {
            let dt = Float(min(now.milliseconds(since: last), 60_000)) / 1000
            let watts = r.voltage * r.current
            if watts > 0 { chargedWh += watts * dt / 3600 } else { dischargedWh -= watts * dt / 3600 }
            if r.current < 0 { dischargedAh -= r.current * dt / 3600 }
            while chargedWh >= 1000 { chargedWh -= 1000; chargedKWh &+= 1 }
            while dischargedWh >= 1000 { dischargedWh -= 1000; dischargedKWh &+= 1 }
            let capacity = max(c.pack.capacityAh, 1)
            while dischargedAh >= capacity { dischargedAh -= capacity; dischargedCapacities &+= 1 }
        }
        lastUpdate = now
        r.chargedEnergy = Float(chargedKWh) + chargedWh / 1000
        r.dischargedEnergy = Float(dischargedKWh) + dischargedWh / 1000
        r.cycleCount = UInt16(min(dischargedCapacities, 0xFFFF))
        report = r
        pack = Self.detail(bms, m, report: r)
        ready = true
        if limitsFell(r) { schedule.expediteLimits() }
    }

    /// The RS485 answer to one request line (`out` of 256 bytes holds every answer); 0 when
    /// nothing is to be sent: a frame for another pack, or no measurement yet.
    public mutating func answerRS485(_ line: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        guard ready else { return 0 }
        return rs485.respond(to: line, report: report, pack: pack, into: out)
    }

    static func detail(_ bms: BatteryManager, _ m: Measurement, report r: BatteryReport) -> PackDetail {
        let c = bms.config
        var d = PackDetail()
        d.cellCount = Int(c.pack.seriesCells)
        for i in 0..<d.cellCount { d.cellVoltages[i] = m.cellVoltages[i] }
        // Pylontech order: the board sensor, the cell sensors, then the rest.
        for pass in 0..<3 {
            for i in 0..<m.temperatureCount {
                let role = m.temperatureRoles[i]
                let wanted = pass == 0 ? role == .board : (pass == 1 ? role == .cell : role != .board && role != .cell)
                guard wanted, d.temperatureCount < 8 else { continue }
                d.temperatures[d.temperatureCount] = m.temperatures[i]
                d.temperatureCount += 1
            }
        }
        if let e = bms.energy {
            d.remainingCapacity = e.remainingAh
            d.fullCapacity = e.remainingAh + e.roomAh
        } else {
            d.fullCapacity = c.pack.capacityAh * r.stateOfHealth
            d.remainingCapacity = d.fullCapacity * r.stateOfCharge
        }
        let switches = bms.command.switches
        d.chargeSwitchOn = switches.chargeOn
        d.dischargeSwitchOn = switches.dischargeOn
        let v = c.cellVoltage
        d.cellOvervoltage = v.overvoltage
        d.cellHighWarning = v.overvoltage - c.warnings.voltage
        d.cellLowWarning = v.dischargeCutoff + c.warnings.voltage
        d.dischargeCutoff = v.dischargeCutoff
        d.cellUndervoltage = v.undervoltage
        let t = c.temperature
        d.chargeMinTemperature = t.chargeMinimum
        d.chargeMaxTemperature = t.chargeMaximum
        d.dischargeMinTemperature = t.dischargeMinimum
        d.dischargeMaxTemperature = t.dischargeMaximum
        d.chargeCurrentMaximum = c.current.chargeOvercurrent
        d.dischargeCurrentMaximum = c.current.dischargeOvercurrent
        return d
    }

    /// The bank as one battery in `r`: its limits, state and the union of its packs' faults,
    /// the extremes located by pack (its node address).
    func apply(_ bank: BankView, to r: inout BatteryReport) {
        let b = bank.limits
        // No pack online (power-up, every pack out): this pack's own state and voltage
        // limits, and no current either way.
        guard b.online > 0 else {
            r.chargeAllowed = false
            r.dischargeAllowed = false
            r.chargeCurrentLimit = 0
            r.dischargeCurrentLimit = 0
            r.modulesOnline = 0
            r.modulesOffline = UInt16(b.offline)
            return
        }
        r.chargeVoltageLimit = b.chargeVoltageLimit
        r.dischargeVoltageLimit = b.dischargeVoltageLimit
        r.chargeCurrentLimit = b.chargeCurrentLimit
        r.dischargeCurrentLimit = b.dischargeCurrentLimit
        r.chargeAllowed = b.chargeAllowed
        r.dischargeAllowed = b.dischargeAllowed
        r.full = b.full
        r.stateOfCharge = b.stateOfCharge
        r.stateOfHealth = b.stateOfHealth
        r.voltage = b.voltage
        r.current = b.current
        r.temperature = b.temperature
        r.minTemperature = b.minTemperature
        r.maxTemperature = b.maxTemperature
        r.minCellVoltage = b.minCellVoltage
        r.maxCellVoltage = b.maxCellVoltage
        let low = bank.roster[b.minCellPack], high = bank.roster[b.maxCellPack]
        r.minCell = .init(pack: low.address, index: low.minCell)
        r.maxCell = .init(pack: high.address, index: high.maxCell)
        // The sensor within that pack is not shared on the bank bus: the pack only.
        r.coldest = .init(pack: bank.roster[b.minTemperaturePack].address, index: 0)
        r.warmest = .init(pack: bank.roster[b.maxTemperaturePack].address, index: 0)
        var tripped = b.faults
        var approaching = b.warnings
        if tripped.contains(.dischargeCutoff) {
            tripped.remove(.dischargeCutoff)
            approaching.insert(.dischargeCutoff)
        }
        r.protections = Self.conditions(tripped)
        r.warnings = Self.conditions(approaching)
        r.modulesOnline = UInt16(b.online)
        r.modulesOffline = UInt16(b.offline)
        r.modulesBlockingCharge = UInt16(b.blockingCharge)
        r.modulesBlockingDischarge = UInt16(b.blockingDischarge)
        r.installedCapacity = b.capacity
    }

    /// The next frame due at or before `now`, with the time it was due (the frames of a set
    /// are spread over the second; a caller that runs less often gets each at its slot).
    public mutating func nextFrame(now: Timestamp) -> (frame: InverterFrame, due: Timestamp)? {
        guard ready, let next = schedule.next(now: now.milliseconds) else { return nil }
        let frame = LVCAN.frame(next.id, report: report, settings: settings)
        if next.id == 0x351 { sentLimits = LVCAN.currentLimits(of: frame) }
        return (frame, Timestamp(milliseconds: next.due))
    }

    /// The current limits as last sent, and whether the report's have fallen below them
    /// (by more than 1 A and 5 %): then 0x351 goes out ahead of its slot.
    func limitsFell(_ r: BatteryReport) -> Bool {
        guard let sent = sentLimits else { return false }
        let charge = r.chargeAllowed ? r.chargeCurrentLimit : 0
        let discharge = r.dischargeAllowed ? r.dischargeCurrentLimit : 0
        func fell(_ now: Float, _ before: Float) -> Bool { before - now > max(1, 0.05 * before) }
        return fell(charge, sent.charge) || fell(discharge, sent.discharge)
    }

    /// A frame from the inverter bus; returns a change of the inverter's presence.
    public mutating func receive(_ frame: InverterFrame, now: Timestamp) -> InverterKeepAlive.Change? {
        keepAlive.receive(frame, at: now.milliseconds)
    }

    /// The start of a silence of the inverter, once.
    public mutating func pollKeepAlive(now: Timestamp) -> InverterKeepAlive.Change? {
        keepAlive.poll(now: now.milliseconds)
    }

    /// Force-charge requests below their SOCs (released 3 % above) and whenever the pack is
    /// empty; the full-charge request after `fullChargeRequestDays` below 97 %.
    mutating func nextRequests(soc: Float, empty: Bool, previous: BatteryRequests, now: Timestamp) -> BatteryRequests {
        var q = BatteryRequests()
        func latch(_ flag: BatteryRequests, below threshold: Float) {
            let on = previous.contains(flag) ? soc < threshold + 0.03 : soc <= threshold
            if on || empty { q.insert(flag) }
        }
        latch(.forceCharge1, below: settings.forceCharge1SOC)
        latch(.forceCharge2, below: settings.forceCharge2SOC)
        if let last = lastUpdate { belowFullChargeMs += UInt64(now.milliseconds(since: last)) }
        if soc >= 0.97 { belowFullChargeMs = 0 }
        let days = UInt64(settings.fullChargeRequestDays)
        if days > 0 && belowFullChargeMs >= days * 86_400_000 { q.insert(.fullCharge) }
        return q
    }

    /// The inverter protocols' names for a set of BMS faults.
    public static func conditions(_ faults: FaultSet) -> BatteryConditions {
        var c = BatteryConditions()
        for fault in Fault.allCases where faults.contains(fault) {
            switch fault {
            case .cellOvervoltage: c.insert(.highVoltage)
            case .cellUndervoltage, .dischargeCutoff: c.insert(.lowVoltage)
            case .shortCircuit: c.insert(.shortCircuit)
            case .dischargeOvercurrent: c.insert(.highDischargeCurrent)
            case .chargeOvercurrent: c.insert(.highChargeCurrent)
            case .dischargeOvertemperature: c.insert(.highTemperature)
            case .dischargeUndertemperature: c.insert(.lowTemperature)
            case .chargeOvertemperature: c.insert(.highChargeTemperature)
            case .chargeUndertemperature: c.insert(.lowChargeTemperature)
            case .cellImbalance: c.insert(.cellImbalance)
            case .dischargeSwitchFailure, .chargeSwitchFailure: c.insert(.contactor)
            case .openWire, .boardOvertemperature, .mosfetOvertemperature, .afeSilent, .temperatureSensor:
                c.insert(.internalError)
            }
        }
        return c
    }
}

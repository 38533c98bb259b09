/// Several packs in parallel on one DC bus, each with its own BMS: what every pack knows of
/// the others (`BankRoster`), who speaks to the inverter (the leader: the lowest address
/// alive, chosen without configuration), and what the bank as one battery may do
/// (`BankLimits`).
public struct BankRoster: Sendable {
    public static var capacity: Int { 8 }
    /// A pack not heard for this long has left the bank (its reports come every second).
    public var timeoutMs: UInt32 = 3000
    public private(set) var own: PackShare
    var others = FixedList<8, PackShare>()
    var heardAt = InlineArray<8, UInt32>(repeating: 0)

    public init(own: PackShare) { self.own = own }

    /// This pack's latest share.
    public mutating func update(own share: PackShare) { own = share }

    /// Takes another pack's share, heard at `now` ms; returns false when the roster is full.
    @discardableResult
    public mutating func receive(_ share: PackShare, at now: UInt32) -> Bool {
        guard share.address != own.address else { return true }
        for i in 0..<others.count where others[i].address == share.address {
            others[i] = share
            heardAt[i] = now
            return true
        }
        guard others.count < BankRoster.capacity else { return false }
        heardAt[others.count] = now
        return others.append(share)
    }

    /// Forgets the packs not heard within the timeout; returns how many left.
    @discardableResult
    public mutating func expire(now: UInt32) -> Int {
        var removed = 0
        var i = 0
        while i < others.count {
            if now &- heardAt[i] > timeoutMs {
                let last = others.count - 1
                if i != last {
                    others[i] = others[last]
                    heardAt[i] = heardAt[last]
                }
                _ = others.removeLast()
                removed += 1
            } else {
                i += 1
            }
        }
        return removed
    }

    /// The last share heard from `address` (this pack's own for its address).
    public func share(of address: UInt8) -> PackShare? {
        if address == own.address { return own }
        for i in 0..<others.count where others[i].address == address { return others[i] }
        return nil
    }

    /// The packs alive, this one included.
    public var count: Int { others.count + 1 }

    /// The `i`th pack alive (0 is this one).
    public subscript(i: Int) -> PackShare { i == 0 ? own : others[i - 1] }

    /// The leader's address: the lowest alive.
    public var leader: UInt8 {
        var lowest = own.address
        for i in 0..<others.count { lowest = min(lowest, others[i].address) }
        return lowest
    }

    public var isLeader: Bool { leader == own.address }
}

/// How a bank treats a pack that blocks one direction for a reason other than being full
/// (charge) or empty (discharge) — a fault, an enable input, pay-as-you-go. A full or empty
/// pack only drops out of that direction's sum: the others charge on until all are full.
public enum BankPolicy: UInt8, Sendable {
    /// Any online pack blocking charge (discharge) stops the bank's charge (discharge): what
    /// users and commercial master/slave systems do.
    case strict = 0
    /// Only the packs that allow a direction count for it; the blocked one's switch keeps
    /// it out (its diode conducts only the other way).
    case lenient = 1
}

/// The bank as one battery: the leader's view, handed to the inverter.
public struct BankLimits: Sendable, Equatable {
    public var chargeVoltageLimit: Float = 0
    public var dischargeVoltageLimit: Float = 0
    public var chargeCurrentLimit: Float = 0
    public var dischargeCurrentLimit: Float = 0
    public var chargeAllowed = false
    public var dischargeAllowed = false
    /// Every online pack is full.
    public var full = false
    /// Capacity-weighted SOC and SOH, 0–1; nominal capacity, Ah.
    public var stateOfCharge: Float = 0
    public var stateOfHealth: Float = 1
    public var capacity: Float = 0
    /// Average voltage, summed current, temperatures (average, lowest, highest).
    public var voltage: Float = 0
    public var current: Float = 0
    public var temperature: Float = 25
    public var minTemperature: Float = 25
    public var maxTemperature: Float = 25
    public var minCellVoltage: Float = 0
    public var maxCellVoltage: Float = 0
    /// The packs (by position in the roster) holding the extremes.
    public var minCellPack = 0
    public var maxCellPack = 0
    public var minTemperaturePack = 0
    public var maxTemperaturePack = 0
    /// The union of faults and warnings over the packs alive.
    public var faults = FaultSet()
    public var warnings = FaultSet()
    public var online = 0
    public var blockingCharge = 0
    public var blockingDischarge = 0
    public var offline = 0

    public init() {}

    /// The bank's limits for the packs of `roster`.
    ///
    /// Online packs are those alive and connected. Current limits follow from how a current
    /// divides: on a common bus at V each pack carries (V − E)/R (E its OCV, R its
    /// resistance). The bank may charge until the first pack reaches its own charge limit,
    /// at V = min(E + CCL·R), and carries then the sum of all packs' currents at that V;
    /// likewise for discharge at V = max(E − DCL·R). A low-SOC pack (low E) or a stiff one
    /// (low R) takes more than its share of a charge, and the bank's limit falls so that it
    /// stays within its own. While current flows, the shares the packs really carry bound it
    /// too: no pack is asked for more than its limit at its present share of the current
    /// flowing that way (the model's OCV and resistance are estimates). `maximumCurrent` (the cable or fuse to the inverter)
    /// caps both.
    public static func of(_ roster: BankRoster, policy: BankPolicy = .strict,
                          maximumCurrent: Float = .infinity) -> BankLimits {
        var b = BankLimits()
        var first = true
        var weightedSOC: Float = 0, weightedSOH: Float = 0, usable: Float = 0
        var vSum: Float = 0, tSum: Float = 0
        var chargeVoltage = Float.infinity, dischargeVoltage: Float = 0, anyChargeVoltage = Float.infinity
        var chargeBus = Float.infinity, dischargeBus = -Float.infinity
        var anyBlocksCharge = false, anyBlocksDischarge = false
        var allFull = true
        for i in 0..<roster.count {
            let p = roster[i]
            b.faults = FaultSet(flags: b.faults.flags | p.faults.flags)
            b.warnings = FaultSet(flags: b.warnings.flags | p.warnings.flags)
            guard p.connected else {
                b.offline += 1
                continue
            }
            b.online += 1
            b.capacity += p.capacity
            usable += p.capacity * p.stateOfHealth
            weightedSOC += p.stateOfCharge * p.capacity * p.stateOfHealth
            weightedSOH += p.stateOfHealth * p.capacity
            vSum += p.voltage
            tSum += p.temperature
            b.current += p.current
            if first || p.minTemperature < b.minTemperature { b.minTemperature = p.minTemperature; b.minTemperaturePack = i }
            if first || p.maxTemperature > b.maxTemperature { b.maxTemperature = p.maxTemperature; b.maxTemperaturePack = i }
            if first || p.minCellVoltage < b.minCellVoltage { b.minCellVoltage = p.minCellVoltage; b.minCellPack = i }
            if first || p.maxCellVoltage > b.maxCellVoltage { b.maxCellVoltage = p.maxCellVoltage; b.maxCellPack = i }
            first = false
            // The charge voltage: the lowest of the packs that take charge (a full pack's
            // float level would hold the others below full); of all, when none does.
            if p.allowed.contains(.charge) { chargeVoltage = min(chargeVoltage, p.chargeVoltageLimit) }
            anyChargeVoltage = min(anyChargeVoltage, p.chargeVoltageLimit)
            dischargeVoltage = max(dischargeVoltage, p.dischargeVoltageLimit)
            let r = max(p.resistance, 1e-4)
            if p.allowed.contains(.charge) {
                chargeBus = min(chargeBus, p.openCircuitVoltage + p.chargeCurrentLimit * r)
            } else {
                if !p.full && !p.chargeHeld { anyBlocksCharge = true }
                b.blockingCharge += 1
            }
            if p.allowed.contains(.discharge) {
                dischargeBus = max(dischargeBus, p.openCircuitVoltage - p.dischargeCurrentLimit * r)
            } else {
                if !p.empty && !p.dischargeHeld { anyBlocksDischarge = true }
                b.blockingDischarge += 1
            }
            if !p.full { allFull = false }
        }
        guard b.online > 0 else { return b }
        b.full = allFull
        b.voltage = vSum / Float(b.online)
        b.temperature = tSum / Float(b.online)
        b.stateOfCharge = usable > 0 ? weightedSOC / usable : 0
        b.stateOfHealth = b.capacity > 0 ? weightedSOH / b.capacity : 1
        b.chargeVoltageLimit = chargeVoltage.isFinite ? chargeVoltage : anyChargeVoltage
        b.dischargeVoltageLimit = dischargeVoltage
        var charge: Float = 0, discharge: Float = 0
        for i in 0..<roster.count {
            let p = roster[i]
            guard p.connected else { continue }
            let r = max(p.resistance, 1e-4)
            if p.allowed.contains(.charge) && chargeBus.isFinite {
                charge += max(0, (chargeBus - p.openCircuitVoltage) / r)
            }
            if p.allowed.contains(.discharge) && dischargeBus.isFinite {
                discharge += max(0, (p.openCircuitVoltage - dischargeBus) / r)
            }
        }
        // What the packs really carry corrects the model (their OCV and resistance are
        // estimates; polarisation shifts the split): while the bank charges or discharges,
        // no pack may be asked for more than its limit at its present share.
        // A pack's share of a direction is its part of all the current flowing that way (not
        // of the net: packs that equalize carry current one into another).
        var charging: Float = 0, discharging: Float = 0
        for i in 0..<roster.count where roster[i].connected {
            charging += max(roster[i].current, 0)
            discharging += max(-roster[i].current, 0)
        }
        for i in 0..<roster.count {
            let p = roster[i]
            guard p.connected else { continue }
            if charging > 2 && p.current > 0.5 && p.allowed.contains(.charge) {
                charge = min(charge, p.chargeCurrentLimit * charging / p.current)
            }
            if discharging > 2 && p.current < -0.5 && p.allowed.contains(.discharge) {
                discharge = min(discharge, p.dischargeCurrentLimit * discharging / -p.current)
            }
        }
        b.chargeAllowed = charge > 0 && !(policy == .strict && anyBlocksCharge)
        b.dischargeAllowed = discharge > 0 && !(policy == .strict && anyBlocksDischarge)
        b.chargeCurrentLimit = b.chargeAllowed ? min(charge, maximumCurrent) : 0
        b.dischargeCurrentLimit = b.dischargeAllowed ? min(discharge, maximumCurrent) : 0
        return b
    }
}

/// Whether a pack may connect to the bus, and in which direction (the pre-connect check).
///
/// The limits it is given are what the pack could carry each way were it allowed
/// (`ChargeLimits.availableCharge`/`availableDischarge`), not its present (perhaps blocked)
/// limits. A pack whose switches are open joins (both switches) when the current the
/// stack-to-bus difference would drive through it (difference / R) stays within 80 % of that
/// direction's limit and the difference within `joinDifference`; when only the current
/// criterion holds it first equalizes one way — charge-only when below the bus,
/// discharge-only above — and joins once the equalizing current has fallen to what
/// `joinDifference` drives. A pack alone on the bus joins at once, and so does the leader on a
/// dead bus (below half its stack). Once joined: a switch that is open while the other
/// conducts (the pack full, or empty) closes again only when the bus has come to the pack's
/// voltage on that side (within a tenth of `joinDifference`); and a direction the pack can
/// no longer carry (its limit below 1 A: nearly empty, nearly full) is held open until the
/// limit is back to 2 A and a minute has passed, so the bank goes on with the others instead
/// of being held at the weakest pack's zero.
/// Equalizing is judged once its current has flowed (the switch closes a step or two after
/// the enable). When the BMS opens both switches (a fault, a shutdown) the pack
/// checks again before reconnecting.
public struct JoinGate: Sendable {
    public enum Mode: UInt8, Sendable, Equatable {
        case isolated = 0
        case equalizingByCharge = 1
        case equalizingByDischarge = 2
        case joined = 3
    }

    /// The largest stack-to-bus difference at which a pack joins, V.
    public var joinDifference: Float
    public private(set) var mode = Mode.isolated
    /// Directions held open because the pack cannot carry them now, and since when (ms).
    public private(set) var exhausted = Directions.none
    var exhaustedSince = InlineArray<2, UInt32>(repeating: 0)
    /// How long an exhausted direction stays held at least: a cell relaxes at rest, and
    /// releasing it at once would switch the pack on and off every step.
    public static var exhaustedHoldMs: UInt32 { 60_000 }
    /// Updates since the pack began to equalize one way.
    var equalizingSteps = 0

    public init(joinDifference: Float = 1.0) { self.joinDifference = joinDifference }

    /// The enables for the next step. `stack` is the pack's own voltage and `bus` its
    /// terminals' (the bus while the switches are open); `current` flows through it now.
    public mutating func update(stack: Float, bus: Float, current: Float, resistance: Float, alone: Bool,
                                leader: Bool = true, chargeSwitch: Bool, dischargeSwitch: Bool,
                                chargeLimit: Float, dischargeLimit: Float, now: UInt32 = 0) -> Directions {
        let r = max(resistance, 1e-4)
        let connected = chargeSwitch || dischargeSwitch
        // A pack whose switches opened (its protection, a shutdown) checks again.
        if !connected && (mode == .joined) { mode = .isolated }
        // Exhausted directions: held below 1 A, released at 2 A after at least a minute.
        func exhaust(_ d: Directions, _ k: Int, _ limit: Float) {
            if limit < 1 {
                if !exhausted.contains(d) { exhaustedSince[k] = now }
                exhausted.insert(d)
            } else if limit >= 2 && now &- exhaustedSince[k] >= JoinGate.exhaustedHoldMs {
                exhausted.remove(d)
            }
        }
        exhaust(.charge, 0, chargeLimit)
        exhaust(.discharge, 1, dischargeLimit)
        if alone {
            mode = .joined
            return .both
        }
        let joinCurrent = joinDifference / r
        switch mode {
        case .joined:
            let tolerance = joinDifference / 10
            var enables = Directions.both
            if !chargeSwitch && bus - stack > tolerance { enables.remove(.charge) }
            if !dischargeSwitch && stack - bus > tolerance { enables.remove(.discharge) }
            enables.subtract(exhausted)
            return enables
        case .equalizingByCharge, .equalizingByDischarge:
            // The switch closes a step or two after the enable: judge the equalizing current
            // only once it has flowed. Join when it has fallen enough; back to isolated if the
            // switch does not close or opens again (the limit fell, a fault).
            equalizingSteps += 1
            let way: Directions = mode == .equalizingByCharge ? .charge : .discharge
            if !connected {
                if equalizingSteps <= 3 { return way }
                mode = .isolated
                return Directions.none
            }
            if equalizingSteps >= 3 && abs(current) <= joinCurrent {
                mode = .joined
                return .both
            }
            return way
        case .isolated:
            if bus < 0.5 * stack {
                guard leader else { return Directions.none }
                mode = .joined
                return .both
            }
            let difference = bus - stack
            let inrush = abs(difference) / r
            // A fifth in hand: R is an estimate (a pack at 10 % predicted within its 90 A
            // took 93.5 A for its first seconds).
            let limit = 0.8 * (difference > 0 ? chargeLimit : dischargeLimit)
            guard inrush <= limit else { return Directions.none }
            if abs(difference) <= joinDifference {
                mode = .joined
                return .both
            }
            mode = difference > 0 ? .equalizingByCharge : .equalizingByDischarge
            equalizingSteps = 0
            return difference > 0 ? .charge : .discharge
        }
    }
}

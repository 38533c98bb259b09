import BMSCore

/// No demand: the packs of a bank take theirs from the bank's bus, not from a profile.
public struct NoDemand: PowerProfile, Sendable {
    public init() {}
    public func demand(at time: SimTime) -> TerminalDemand { TerminalDemand() }
}

/// One step of a bank: the bus, and each pack's record.
public struct BankStepRecord {
    public var time: SimTime
    public var busVoltage: Float
    /// Net current into the bank, A (+ = charging), and the load the bank could not serve.
    public var current: Float
    public var unservedLoadW: Float
    /// The current the inverter would have drawn or pushed without the BMS's limits, A.
    public var requestedCurrent: Float
    public var packs: [StepRecord]
}

/// Several packs in parallel on one DC bus with one inverter and one world profile.
///
/// Each step: every pack's clock and faults move on; the world's demand (PV, loads, a
/// charger) becomes a net bank current, capped by the current limits the inverter last read
/// from the battery (`inverterLimits`, set by the caller from the leader's frames), and
/// clamped by the source's voltage limit; the bus voltage V is found at which the packs'
/// currents add up to it, each pack carrying (V − E)/R through its closed switches (one way
/// through a body diode when one switch is open); then every pack finishes its step with its
/// own current: its AFE, its BMS. How the current divides follows from each pack's OCV and
/// resistance: an emptier or stiffer pack takes more of a charge.
///
/// World faults (charger over-voltage, a load short, an overload) act on the bank; they are
/// scheduled on the first pack. The packs are held in an array: this runs on the host (the
/// firmware runs one pack).
public struct ParallelSimulation<Profile: PowerProfile> {
    public var packs: [Simulation<NoDemand>]
    public var profile: Profile
    /// The charge and discharge current limits the inverter obeys (from the battery's CAN
    /// frames); nil until it has read any.
    public var inverterLimits: (charge: Float, discharge: Float)?
    public private(set) var busVoltage: Float
    public private(set) var time = SimTime(milliseconds: 0)
    public private(set) var unservedLoadWh: Double = 0

    /// The packs start with their switches open, as at power-up: each joins the bus through
    /// its own check (the caller's, `JoinGate`).
    public init(packs: [Simulation<NoDemand>], profile: Profile) {
        precondition(!packs.isEmpty)
        self.packs = packs
        self.profile = profile
        for i in self.packs.indices { self.packs[i].isolate() }
        busVoltage = 0
    }

    func worldFault(_ kind: InjectedFaultKind) -> Bool { packs[0].isActive(kind) }

    /// The packs' summed current at bus voltage `v`.
    static func bankCurrent(_ views: [PackBusView], at v: Float) -> Float {
        var sum: Float = 0
        for view in views { sum += view.current(atBus: v) }
        return sum
    }

    /// The bus voltage at which the packs take `target` A in all (or as near as they can),
    /// searched between 0 and twice the highest EMF. Where a range of voltages gives the
    /// same current (packs that conduct one way only, through a body diode), the bus sits
    /// at the edge the conducting packs hold it at; with no pack conducting at all, nothing
    /// holds it: 0 V.
    static func solve(_ views: [PackBusView], target wanted: Float) -> (voltage: Float, current: Float) {
        var top: Float = 1
        for view in views { top = max(top, 2 * view.emf) }
        let atLow = bankCurrent(views, at: 0), atHigh = bankCurrent(views, at: top)
        let target = min(max(wanted, atLow), atHigh)
        // The lowest V whose current reaches the target, and the highest whose current
        // does not exceed it.
        var lo: Float = 0, hi = top
        for _ in 0..<60 {
            let mid = (lo + hi) / 2
            if bankCurrent(views, at: mid) < target { lo = mid } else { hi = mid }
        }
        let lower = hi
        lo = 0
        hi = top
        for _ in 0..<60 {
            let mid = (lo + hi) / 2
            if bankCurrent(views, at: mid) > target { hi = mid } else { lo = mid }
        }
        let upper = lo
        let edge: Float = 1e-3 * top
        let v: Float
        if upper - lower < edge {
            v = (lower + upper) / 2
        } else if lower <= edge && upper >= top - edge {
            v = 0
        } else if upper >= top - edge {
            v = lower
        } else if lower <= edge {
            v = upper
        } else {
            v = (lower + upper) / 2
        }
        return (v, bankCurrent(views, at: v))
    }

    @discardableResult
    public mutating func step() -> BankStepRecord {
        var dt: Float = 1, ambients: [Float] = []
        for i in packs.indices {
            let (d, a) = packs[i].beginStep()
            dt = d
            ambients.append(a)
        }
        time = packs[0].time
        let views = packs.map(\.busView)
        var demand = profile.demand(at: time)
        // Power into current at the bus voltage; a dead bus (power-up) at the packs' EMF.
        var emfSum: Float = 0
        for view in views { emfSum += view.emf }
        let meanEMF = emfSum / Float(views.count)
        let volts = busVoltage > 0.5 * meanEMF ? busVoltage : meanEMF
        if worldFault(.chargerOvervoltage) { demand.sourceVoltageLimit *= 1.2 }
        var dischargeOvercurrent: Float = 0
        for p in packs { dischargeOvercurrent += p.bms.config.current.dischargeOvercurrent }
        if worldFault(.loadShort) {
            var capacity: Float = 0
            for p in packs { capacity += p.setup.capacityAh }
            demand.loadW = 50 * capacity * volts
        }
        if worldFault(.overload) { demand.loadW += 1.5 * dischargeOvercurrent / Float(packs.count) * volts }

        // The source holds the bus at its voltage limit at most; the inverter keeps within
        // the battery's limits (what it cannot take from the battery, the loads go without).
        let loadA = demand.loadW / volts
        var sourceA: Float = 0
        if demand.sourceW > 0 {
            let holdingA = Self.bankCurrent(views, at: demand.sourceVoltageLimit) + loadA
            sourceA = max(0, min(demand.sourceW / volts, min(demand.sourceCurrentLimit + loadA, holdingA)))
        }
        let requested = sourceA - loadA
        var target = requested
        if let limits = inverterLimits {
            target = min(max(target, -limits.discharge), limits.charge)
        }
        let (v, carried) = Self.solve(views, target: target)
        busVoltage = v
        // Whatever the bank does not give, the loads miss (a charge it cannot take is
        // simply not drawn from the source).
        let unservedA = max(0, -requested) - max(0, -carried)
        let unservedW = max(0, unservedA) * volts
        unservedLoadWh += Double(unservedW * dt) / 3600

        var records: [StepRecord] = []
        records.reserveCapacity(packs.count)
        for i in packs.indices {
            let current = views[i].current(atBus: v)
            records.append(packs[i].finishStep(current: current, dt: dt, ambient: ambients[i], volts: volts,
                                               sourceVoltageLimit: demand.sourceVoltageLimit, busVoltage: v))
        }
        return BankStepRecord(time: time, busVoltage: v, current: carried, unservedLoadW: unservedW,
                              requestedCurrent: requested, packs: records)
    }
}

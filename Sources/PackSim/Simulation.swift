import BMSCore

/// A pack as the DC bus sees it: for a bank's bus solution.
public struct PackBusView: Sendable {
    public var emf: Float
    public var resistance: Float
    public var onResistance: Float
    public var diodeDrop: Float
    public var switches: SwitchCommand

    /// The current (+ = into the pack) at bus voltage `v`: both switches closed, either
    /// way through both; one open, one way through its body diode; both open, none.
    public func current(atBus v: Float) -> Float {
        switch (switches.chargeOn, switches.dischargeOn) {
        case (true, true): return (v - emf) / (resistance + 2 * onResistance)
        case (true, false): return max(0, (v - emf - diodeDrop) / (resistance + onResistance))
        case (false, true): return min(0, (v - emf + diodeDrop) / (resistance + onResistance))
        case (false, false): return 0
        }
    }
}

/// One step of a run as it happened: the truth, what the BMS measured and what it decided.
public struct StepRecord: Sendable {
    public var time: SimTime
    /// True pack current, A (+ = charging), and terminal voltage, V.
    public var current: Float
    public var packVoltage: Float
    public var ambient: Float
    /// Load the pack could not serve because discharging was off, W.
    public var unservedLoadW: Float
    /// Lowest and highest true group voltage after the step, V.
    public var cellMin: Float
    public var cellMax: Float
    /// What the BMS was given, and what it commanded.
    public var measurement: Measurement
    public var command: Command
}

/// The closed loop: plant → `Measurement` → `BatteryManager` → switch commands → plant.
///
/// Each step of `stepMilliseconds`: the world's demand is resolved against the pack's
/// Thevenin equivalent and the switches that are really closed; the pack and power stage
/// advance; the AFE's view (noise, quantisation, injected sensor faults) becomes the
/// measurement; the BMS steps on it; its command takes effect for the next step. The AFE's
/// own short-circuit comparator acts inside a step, as the chip does in microseconds.
public struct Simulation<Profile: PowerProfile> {
    public private(set) var pack: PackModel
    public private(set) var bms: BatteryManager
    public var profile: Profile
    public private(set) var time: SimTime
    public private(set) var stats = SimulationStats()
    public let setup: SimulationSetup
    var faults = FixedList<16, ScheduledFault>()
    /// Kinds of the scheduled faults already in force, bit = raw value; refreshed once per
    /// step (iterating the schedule at every query would copy it each time).
    var activeKinds: UInt16 = 0
    var leaksApplied: UInt16 = 0
    var lastMeasurement: Measurement
    var terminalVoltage: Float
    var afeTrippedThisStep = false
    var random: SimRandom

    /// Builds the pack and the BMS; throws when the chemistry has no model, the shape is out
    /// of range, or the configuration is invalid.
    public init(setup: SimulationSetup, profile: Profile) throws(SimulationError) {
        guard let parameters = CellParameters.of(setup.chemistry) else { throw .noCellModel }
        guard (1...16).contains(setup.cells), setup.parallel >= 1, setup.capacityAh > 0,
              setup.stepMilliseconds > 0 else { throw .badShape }
        guard var config = setup.bmsConfig else { throw .noCellModel }
        // Without a table of its own the BMS gets the cells' OCV table, as a user sets it
        // after `flexbms calibrate ocv` on these cells.
        if !config.hasOCVTable { config.setOCVTable(OCVCurve(volts: parameters.ocv)) }
        do {
            bms = try BatteryManager(config: config)
        } catch {
            throw .config(error)
        }
        self.setup = setup
        self.profile = profile
        let root = SimRandom(seed: setup.seed)
        pack = PackModel(parameters: parameters, groups: setup.cells, parallel: setup.parallel,
                         capacityAh: setup.capacityAh, spread: setup.spread,
                         initialSOC: setup.initialSOC, temperature: setup.ambient,
                         random: root.fork(10))
        pack.prepare(stepSeconds: Float(setup.stepMilliseconds) / 1000)
        random = root.fork(11)
        time = SimTime(milliseconds: 0)
        terminalVoltage = pack.stackVoltage
        lastMeasurement = Measurement(timestamp: time.bmsTimestamp)
        lastMeasurement = measure(current: 0)
        // The BMS sees the pack once before the first step, as at power-up.
        let command = bms.step(lastMeasurement, now: time.bmsTimestamp)
        pack.powerStage.switches = command.switches
        stats.socSpreadStart = pack.socSpread
    }

    /// Schedules a fault; returns `false` when 16 are already scheduled or the index is out
    /// of range for its kind.
    @discardableResult
    public mutating func schedule(_ fault: ScheduledFault) -> Bool {
        switch fault.kind.target {
        case .cell?: guard fault.index >= 0 && fault.index < pack.groupCount else { return false }
        case .sensor?: guard fault.index >= 0 && fault.index < pack.thermistors.boardSensor + 1 else { return false }
        case nil: break
        }
        return faults.append(fault)
    }

    /// Whether a scheduled fault of `kind` is in force.
    public func isActive(_ kind: InjectedFaultKind) -> Bool {
        activeKinds & (1 << UInt16(kind.rawValue)) != 0
    }

    /// Updates `activeKinds` and starts the internal shorts that became due.
    mutating func refreshFaults() {
        guard faults.count > 0 else { return }
        var i = 0
        while i < faults.count {
            let f = faults[i]
            i += 1
            guard time.milliseconds >= f.atMilliseconds else { continue }
            activeKinds |= 1 << UInt16(f.kind.rawValue)
            if f.kind == .cellShort || f.kind == .cellLeak {
                let bit = UInt16(1) << UInt16(f.index)
                if leaksApplied & bit == 0 {
                    leaksApplied |= bit
                    // 2 % of the capacity per hour, or 1 % per day.
                    let fraction: Float = f.kind == .cellShort ? 0.02 : 0.01 / 24
                    pack.setLeak(group: f.index, amps: fraction * pack.groups[f.index].capacityAh)
                }
            }
        }
    }

    /// The ambient temperature now, °C.
    public var ambient: Float {
        if isActive(.coldAmbient) { return -20 }
        if isActive(.hotAmbient) { return 55 }
        return setup.ambient + setup.ambientSwing
            * DailyCurves.value(DailyCurves.ambientSwing, at: time.secondsOfDay)
    }

    /// The oldest BMS event not yet taken.
    public mutating func nextEvent() -> BMSEvent? { bms.nextEvent() }

    /// Advances the run by one step.
    @discardableResult
    public mutating func step() -> StepRecord {
        let (dt, ambient) = beginStep()

        // The world's demand, with the injected world faults.
        var demand = profile.demand(at: time)
        let (emf, resistance) = pack.thevenin
        let volts = max(terminalVoltage, 1)
        if isActive(.chargerOvervoltage) { demand.sourceVoltageLimit *= 1.2 }
        if isActive(.loadShort) { demand.loadW = 50 * setup.capacityAh * volts }
        if isActive(.overload) { demand.loadW += 1.5 * bms.config.current.dischargeOvercurrent * volts }

        // Resolve the bus: the source holds the terminals at its voltage limit at most.
        let loadA = demand.loadW / volts
        let sourceA = demand.sourceCurrent(loadA: loadA, emf: emf, resistance: resistance, volts: volts)
        return finishStep(current: sourceA - loadA, dt: dt, ambient: ambient, volts: volts,
                          sourceVoltageLimit: demand.sourceVoltageLimit, busVoltage: nil)
    }

    /// Opens both switches and keeps them open until the BMS's bank directions allow
    /// (a pack of a bank at power-up, before its join check).
    public mutating func isolate() {
        bms.bankDirections = .none
        pack.powerStage.switches = SwitchCommand(chargeOn: false, dischargeOn: false)
    }

    /// The first half of a step: the clock and the injected faults move on. A bank of packs
    /// (`ParallelSimulation`) calls it for every pack, solves the bus, then `finishStep`.
    public mutating func beginStep() -> (dt: Float, ambient: Float) {
        time.milliseconds += setup.stepMilliseconds
        refreshFaults()
        return (Float(setup.stepMilliseconds) / 1000, ambient)
    }

    /// What the bus sees of this pack now: the cells' Thevenin source and resistance, the
    /// power stage's, and which switches are really closed.
    public var busView: PackBusView {
        let (emf, resistance) = pack.thevenin
        return PackBusView(emf: emf, resistance: resistance, onResistance: pack.powerStage.onResistance,
                           diodeDrop: pack.powerStage.diodeDrop, switches: pack.powerStage.switches)
    }

    /// The second half of a step with the pack current decided: the AFE's short-circuit
    /// comparator, the switches that block, the pack, the AFE's view, the BMS. With
    /// `busVoltage` (a bank), the terminals sit at the bus when no current flows.
    public mutating func finishStep(current requested: Float, dt: Float, ambient: Float, volts: Float,
                                    sourceVoltageLimit: Float, busVoltage: Float?) -> StepRecord {
        var current = requested

        // The AFE's short-circuit comparator: microseconds, inside this step.
        afeTrippedThisStep = false
        let hardware = pack.powerStage.switches
        if current < 0 && hardware.dischargeOn && -current >= bms.config.current.shortCircuit {
            pack.powerStage.switches.dischargeOn = false
            pack.powerStage.afeShortCircuitLatched = true
            afeTrippedThisStep = true
        }
        let closed = pack.powerStage.switches
        var unservedA: Float = 0
        let dischargeBlocked = !closed.dischargeOn && current < 0
        let chargeBlocked = !closed.chargeOn && current > 0
        if dischargeBlocked { unservedA = -current; current = 0 }
        if chargeBlocked { current = 0 }
        let throughDiode = (current > 0 && !closed.dischargeOn) || (current < 0 && !closed.chargeOn)

        _ = pack.step(current: current, ambient: ambient)
        pack.stepPowerStage(current: current, diodeConducting: throughDiode, ambient: ambient)
        let switchCount = Float(Int(closed.chargeOn ? 1 : 0) + Int(closed.dischargeOn ? 1 : 0))
        terminalVoltage = pack.stackVoltage + current * pack.powerStage.onResistance * switchCount
            + (throughDiode ? (current > 0 ? 1 : -1) * pack.powerStage.diodeDrop : 0)
        // With the path open, the terminals are what stands at them: a charger holds its set
        // point; a short (or a resistive load) pulls them to nothing; an inverter's input
        // shuts down and lets them float back to the stack (the AFE's load-detect pull-up).
        if let bus = busVoltage {
            if current == 0 { terminalVoltage = bus }
        } else if chargeBlocked && sourceVoltageLimit > pack.stackVoltage {
            terminalVoltage = sourceVoltageLimit
        } else if dischargeBlocked && isActive(.loadShort) {
            terminalVoltage = 0
        }

        account(current: current, dt: dt, unservedW: unservedA * volts)

        // The AFE's view, then the BMS.
        let measurement = isActive(.afeSilent) ? lastMeasurement : measure(current: current)
        lastMeasurement = measurement
        if let board = pack.activeBoard { reportActiveBalancer(board) }
        let command = bms.step(measurement, now: time.bmsTimestamp)
        apply(command)
        let range = pack.cellVoltageRange
        return StepRecord(time: time, current: current, packVoltage: terminalVoltage,
                          ambient: ambient, unservedLoadW: unservedA * volts,
                          cellMin: range.min, cellMax: range.max,
                          measurement: measurement, command: command)
    }

    /// The BMS command becomes the switch state, except that the AFE keeps discharge off
    /// after its own short-circuit trip until the BMS has commanded it off once.
    mutating func apply(_ command: Command) {
        var switches = command.switches
        if pack.powerStage.afeShortCircuitLatched {
            if switches.dischargeOn {
                switches.dischargeOn = false
            } else {
                pack.powerStage.afeShortCircuitLatched = false
            }
        }
        pack.powerStage.switches = switches
        pack.bleedMask = command.balanceMask
        if pack.activeBoard != nil {
            // Through the wire format, as a real board receives it (setpoints in mA).
            let frame = bms.activeBalancerCommand.encoded()
            if let received = try? ActiveBalancerCommand(decoding: frame), received.enable {
                pack.activeSetpoints = received.setpoints
            } else {
                pack.activeSetpoints = InlineArray(repeating: 0)
            }
        }
    }

    /// The active board's status frame, read by the BMS before its step: the currents its
    /// converters ran, a clamped setpoint, and its own over-temperature stop (at 85 °C).
    mutating func reportActiveBalancer(_ board: ActiveBalancerBoard) {
        var faults: ActiveBalancerFaults = []
        for g in 0..<pack.groupCount where abs(pack.activeSetpoints[g]) > board.maximumCurrent + 0.001 {
            faults.insert(.setpointClamped)
        }
        if pack.boardTemperature >= 85 { faults.insert(.overTemperature) }
        let status = ActiveBalancerStatus(enabled: true, cells: pack.groupCount, currents: pack.activeCurrents,
                                          faults: faults, boardTemperature: Int8(clamping: Int(pack.boardTemperature)))
        if let received = try? ActiveBalancerStatus(decoding: status.encoded()) {
            bms.takeActiveBalancerStatus(received, at: time.bmsTimestamp)
        }
    }

    mutating func account(current: Float, dt: Float, unservedW: Float) {
        stats.steps += 1
        let (lo, hi) = pack.cellVoltageRange
        stats.minCellVoltage = min(stats.minCellVoltage, lo)
        stats.maxCellVoltage = max(stats.maxCellVoltage, hi)
        let hottest = pack.maxCellTemperature
        stats.maxCellTemperature = max(stats.maxCellTemperature, hottest)
        stats.maxMosfetTemperature = max(stats.maxMosfetTemperature, pack.powerStage.temperature)
        let wh = Double(terminalVoltage * current * dt) / 3600
        if wh > 0 { stats.energyChargedWh += wh } else { stats.energyDischargedWh -= wh }
        stats.unservedLoadWh += Double(unservedW * dt) / 3600
        stats.balancingEnergyWh += Double((pack.bleedPower + pack.activeLoss) * dt) / 3600
        stats.maxBoardTemperature = max(stats.maxBoardTemperature, pack.boardTemperature)
        if bms.fullDetector.isFull { stats.socSpreadAtFull = pack.socSpread }
        let c = bms.config
        let flowing = 0.01 * setup.capacityAh
        if current > flowing && hi > c.cellVoltage.overvoltage + SimulationLimits.overvoltageMargin {
            stats.secondsOverVoltage += Double(dt)
        }
        if current < -flowing && lo < c.cellVoltage.undervoltage - SimulationLimits.undervoltageMargin {
            stats.secondsUnderVoltage += Double(dt)
        }
        let hottestTrip = max(c.temperature.chargeMaximum, c.temperature.dischargeMaximum)
        if abs(current) > flowing && hottest > hottestTrip + SimulationLimits.temperatureMargin {
            stats.secondsOverTemperature += Double(dt)
        }
    }

    /// What the AFE reports for the pack as it is now.
    mutating func measure(current: Float) -> Measurement {
        let sensors = pack.sensors
        var m = Measurement(timestamp: time.bmsTimestamp)
        var stack: Float = 0
        for g in 0..<pack.groupCount {
            let v = pack.groups[g].voltage
            stack += v
            m.cellVoltages[g] = sensors.voltage(v, &random)
        }
        var i = 0
        while activeKinds != 0 && i < faults.count {
            let f = faults[i]
            i += 1
            guard time.milliseconds >= f.atMilliseconds else { continue }
            switch f.kind {
            case .openWire:
                // The open wire joins two cells into one channel: the lower reads nothing.
                let k = f.index
                if k + 1 < pack.groupCount {
                    let joined = pack.groups[k].voltage + pack.groups[k + 1].voltage
                    m.cellVoltages[k + 1] = sensors.voltage(joined, &random)
                }
                m.cellVoltages[k] = sensors.voltage(0, &random)
            default:
                break
            }
        }
        m.stackVoltage = sensors.voltage(stack, &random)
        m.packVoltage = sensors.voltage(terminalVoltage, &random)
        m.current = sensors.current(current, &random)
        let layout = pack.thermistors
        for s in 0..<layout.cellSensorCount {
            m.addTemperature(sensors.temperature(pack.groups[Int(layout.cellSensorGroups[s])].temperature, &random),
                             role: .cell)
        }
        m.addTemperature(sensors.temperature(pack.powerStage.temperature, &random), role: .mosfet)
        m.addTemperature(sensors.temperature(pack.boardTemperature, &random), role: .board)
        i = 0
        while activeKinds != 0 && i < faults.count {
            let f = faults[i]
            i += 1
            guard time.milliseconds >= f.atMilliseconds else { continue }
            if f.kind == .thermistorOpen { m.temperatures[f.index] = -60 }
            if f.kind == .thermistorShort { m.temperatures[f.index] = 160 }
        }
        if afeTrippedThisStep { m.afeFlags.insert(.shortCircuit) }
        m.chargeSwitchReadback = pack.powerStage.switches.chargeOn
        m.dischargeSwitchReadback = pack.powerStage.switches.dischargeOn
        return m
    }
}

extension Simulation {
    /// Hands the BMS a pay-as-you-go credit reading (as the firmware does every second from
    /// its PAYG module), at the present simulated time.
    public mutating func updateCredit(_ credit: PAYGCredit) {
        bms.updateCredit(credit, at: time.bmsTimestamp)
    }
}

extension Simulation {
    /// Logs a pay-as-you-go token entry in the BMS's event stream.
    public mutating func recordPAYGEntry(_ outcome: PAYGEntryOutcome, value: Float) {
        bms.recordPAYGEntry(outcome, value: value, at: time.bmsTimestamp)
    }
}

extension Simulation {
    /// What the simulated AFE allows the balancer (as its driver reports it).
    public mutating func setBalancingLimits(_ limits: BalancingLimits) {
        bms.balancingLimits = limits
        bms.bleedResistance = pack.bleedResistance
    }
}

extension Simulation {
    /// Fits an active-balancer board (or removes it with `nil`): the virtual pack gets its
    /// converters, the BMS plans transfers for it instead of bleeding.
    public mutating func setActiveBalancer(_ board: ActiveBalancerBoard?) {
        pack.activeBoard = board
        pack.activeSetpoints = InlineArray(repeating: 0)
        bms.activeBalancer = board
    }
}

extension Simulation {
    /// The board's temperature rise per watt of bleeding, K/W (a small enclosure: higher).
    public mutating func setBoardThermalResistance(_ kelvinPerWatt: Float) {
        pack.boardThermalResistance = kelvinPerWatt
    }
}

extension Simulation {
    /// Gives `body` the BMS between two steps: what a protocol request does on the virtual
    /// device (read its state, apply a configuration, change an input).
    public mutating func withBatteryManager<R>(_ body: (inout BatteryManager) -> R) -> R {
        body(&bms)
    }
}

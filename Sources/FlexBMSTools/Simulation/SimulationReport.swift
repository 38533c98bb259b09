import BMSCore
import Inverter
import Foundation
import PackSim

/// One BMS event as reported: time, kind, fault, the cell (1-based) or sensor it concerns.
public struct EventRecord: Equatable {
    public var seconds: Double
    public var kind: String
    public var fault: String?
    /// 1-based cell number, when the event concerns a cell.
    public var cell: Int?
    /// For a pay-as-you-go token entry: accepted, already_used, invalid or locked_out.
    public var outcome: String?
    /// 1-based thermistor number, when it concerns a sensor.
    public var sensor: Int?
    public var value: Float
    public var state: String
}

/// One row of the recorded time series: the instant at the end of a sample window, with the
/// extremes seen during the window.
public struct SampleRow {
    public var seconds: Double
    public var packVoltage: Float
    public var current: Float
    public var currentMin: Float
    public var currentMax: Float
    public var socTrue: Float
    /// The BMS's own estimate of the pack SOC (nil before its first measurement).
    public var socEstimated: Float?
    public var state: BMSState
    public var chargeOn: Bool
    public var dischargeOn: Bool
    public var errorFlags: UInt32
    /// True group voltages now, V, and the lowest/highest any group had in the window.
    public var cells: [Float]
    public var cellMin: Float
    public var cellMax: Float
    /// Temperatures as measured (cell sensors, MOSFET, board), °C.
    public var temperatures: [Float]
    public var maxCellTemperatureTrue: Float
    public var ambient: Float
    /// Events raised during the window, as `kind:fault` names.
    public var events: [String]
}

/// Everything a run produced, for the summary, the CSV and the plot.
public struct SimulationReport {
    public var setup: SimulationSetup
    public var profileName: String
    public var rows: [SampleRow] = []
    public var events: [EventRecord] = []
    public var stats = SimulationStats()
    public var simulatedSeconds: Double = 0
    public var wallSeconds: Double = 0
    public var finalSOC: Float = 0
    /// The BMS's pack SOC estimate at the end, and its error against the truth over the
    /// recorded rows (RMS and largest), percentage points.
    public var finalEstimatedSOC: Float?
    public var estimateRMSEPercent: Double = 0
    public var estimateMaxErrorPercent: Double = 0
    /// What the BMS learned about the cells, against the simulated truth, at the end.
    public var health: HealthSummary?
    /// With an inverter on the bus: what was sent, and the last values.
    public var inverter: InverterRunSummary?
    /// Limits drawn in the plot.
    public var overvoltage: Float = 0
    public var dischargeCutoff: Float = 0

    /// Cell-steps per second of wall time (steps × series groups / wall time).
    public var cellStepsPerSecond: Double {
        wallSeconds > 0 ? Double(stats.steps) * Double(setup.cells) / wallSeconds : 0
    }
}

/// The inverter bus of a run (`flexbms sim --inverter`).
public struct InverterRunSummary {
    public var profile: String
    public var framesSent: Int
    public var keepAlivesSent: Int
    /// The battery as the inverter was last told.
    public var last: BatteryReport
    public var reportedSOC: Float

    public init(_ bus: SimulatedInverterBus) {
        profile = "\(bus.bridge.settings.profile.name)"
        framesSent = bus.framesSent
        keepAlivesSent = bus.keepAlivesSent
        last = bus.bridge.report
        reportedSOC = LVCAN.reportedSOC(last, bus.bridge.settings)
    }
}

/// The BMS's state of health and energy figures at the end of a run, beside the truth.
public struct HealthSummary {
    public struct Cell {
        public var capacityTrueAh: Float
        public var capacityEstimatedAh: Float
        public var capacitySamples: Int
        /// R0 at 25 °C, mΩ: the simulated group's, and the BMS's (learned from current steps,
        /// or its first guess when `resistanceSamples` is 0).
        public var resistanceTrueMilliohm: Float
        public var resistanceEstimatedMilliohm: Float
        public var resistanceSamples: Int
    }

    public var cells: [Cell]
    /// The weakest cell's capacity over the label: estimated, and true.
    public var sohEstimated: Float
    public var sohTrue: Float
    public var remainingWh: Float
    public var roomWh: Float
    public var weakCells: WeakCellReport
    /// Cells the BMS judges weak (1-based): learned capacity 10 % or more below the median
    /// cell's, a known R0 50 % or more above the median's, or self-discharging.
    public var weakCellList: [Int]
    /// Cells judged self-discharging from the balancing pattern (1-based) with their extra
    /// self-discharge, Ah/day; and the days of bleeding records behind the judgement.
    public var selfDischarging: [(cell: Int, excessAhPerDay: Float)]
    public var selfDischargeDays: Int
    /// Each cell's bled charge per day (moving average over about a week), Ah.
    public var bledAhPerDay: [Float]
    /// The true extra self-discharge of each group over the median group, Ah/day, an injected
    /// leak included (to check the judgement against).
    public var selfDischargeTrueExcess: [Float]

    init?<P: PowerProfile>(_ sim: Simulation<P>) {
        guard let soh = sim.bms.stateOfHealth, let energy = sim.bms.energy, let weak = sim.bms.weakCells else {
            return nil
        }
        cells = (0..<sim.setup.cells).map { i in
            let group = sim.pack.groups[i]
            let cell = sim.bms.estimator.cell(i)!
            return Cell(capacityTrueAh: group.capacityAh, capacityEstimatedAh: cell.capacity.capacityAh,
                        capacitySamples: cell.capacity.samples,
                        resistanceTrueMilliohm: group.r0 * 1000,
                        resistanceEstimatedMilliohm: cell.filter.r0 * 1000,
                        resistanceSamples: cell.filter.r0Samples)
        }
        sohEstimated = soh
        sohTrue = cells.map(\.capacityTrueAh).min()! / sim.bms.config.pack.capacityAh
        remainingWh = energy.remainingWh
        roomWh = energy.roomWh
        weakCells = weak
        let all = cells
        let capacities = all.map(\.capacityEstimatedAh).sorted()
        let resistances = all.map(\.resistanceEstimatedMilliohm).sorted()
        let medianCapacity = capacities[capacities.count / 2], medianResistance = resistances[resistances.count / 2]
        weakCellList = all.indices.filter { i in
            let c = all[i]
            let lowCapacity = c.capacitySamples > 0 && c.capacityEstimatedAh <= 0.9 * medianCapacity
            let known = sim.bms.estimator.filter(i)!.resistanceIsKnown(steps: 1)
            let highResistance = known && c.resistanceEstimatedMilliohm >= 1.5 * medianResistance
            let selfDischarging = sim.bms.balancer.selfDischarge.suspects & (1 << UInt16(i)) != 0
            return lowCapacity || highResistance || selfDischarging
        }.map { $0 + 1 }
        let monitor = sim.bms.balancer.selfDischarge
        selfDischarging = (0..<sim.setup.cells).filter { monitor.suspects & (1 << UInt16($0)) != 0 }
            .map { ($0 + 1, monitor.excessAhPerDay(cell: $0)) }
        selfDischargeDays = Int(monitor.days)
        bledAhPerDay = (0..<sim.setup.cells).map { monitor.ratesAhPerDay[$0] }
        // Self-discharge at full charge plus an injected leak (cell-leak, cell-short).
        let losses = (0..<sim.setup.cells).map { sim.pack.groups[$0].selfDischargeAhPerDay + 24 * sim.pack.groups[$0].leakCurrent }
        let median = losses.sorted()[losses.count / 2]
        selfDischargeTrueExcess = losses.map { $0 - median }
    }
}

extension WeakCellCauses {
    /// The causes as report words.
    public var names: [String] {
        var names: [String] = []
        if contains(.lowCapacity) { names.append("low_capacity") }
        if contains(.highResistance) { names.append("high_resistance") }
        if contains(.imbalance) { names.append("imbalance") }
        return names
    }
}

/// Runs a simulation and records it.
public enum SimulationRunner {
    /// Steps `simulation` for `durationMs`, keeping a row every `sampleMs` and every event.
    /// `progress` is called with the fraction done, at most every ~1 % of the run.
    public static func run<P: PowerProfile>(_ simulation: inout Simulation<P>, durationMs: UInt64,
                                            sampleMs: UInt64, profileName: String,
                                            beforeStep: ((inout Simulation<P>) -> Void)? = nil,
                                            afterStep: ((inout Simulation<P>, StepRecord) -> Void)? = nil,
                                            progress: ((Double) -> Void)? = nil) -> SimulationReport {
        var report = SimulationReport(setup: simulation.setup, profileName: profileName)
        report.overvoltage = simulation.bms.config.cellVoltage.overvoltage
        report.dischargeCutoff = simulation.bms.config.cellVoltage.dischargeCutoff
        let stepMs = simulation.setup.stepMilliseconds
        let steps = durationMs / stepMs
        let sampleSteps = max(1, sampleMs / stepMs)
        let progressEvery = max(1, steps / 100)
        let clock = ContinuousClock()
        let start = clock.now

        var window = WindowExtremes()
        var windowEvents: [String] = []
        var n: UInt64 = 0
        while n < steps {
            beforeStep?(&simulation)
            let record = simulation.step()
            afterStep?(&simulation, record)
            n += 1
            window.add(current: record.current, cellMin: record.cellMin, cellMax: record.cellMax)
            while let event = simulation.nextEvent() {
                let e = eventRecord(event, at: record.time)
                report.events.append(e)
                windowEvents.append(e.fault.map { "\(e.kind):\($0)" } ?? (e.kind == "state" ? "state:\(e.state)" : e.kind))
            }
            if n % sampleSteps == 0 || n == steps {
                report.rows.append(row(simulation, record, window, windowEvents))
                window = WindowExtremes()
                windowEvents = []
            }
            if let progress, n % progressEvery == 0 { progress(Double(n) / Double(steps)) }
        }
        let elapsed = clock.now - start
        report.wallSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        report.stats = simulation.stats
        report.simulatedSeconds = Double(simulation.time.milliseconds) / 1000
        report.finalSOC = simulation.pack.packSOC
        report.finalEstimatedSOC = simulation.bms.packSOC
        report.health = HealthSummary(simulation)
        let errors = report.rows.compactMap { row in row.socEstimated.map { Double($0 - row.socTrue) } }
        if !errors.isEmpty {
            report.estimateRMSEPercent = (errors.reduce(0) { $0 + $1 * $1 } / Double(errors.count)).squareRoot() * 100
            report.estimateMaxErrorPercent = (errors.map(abs).max() ?? 0) * 100
        }
        return report
    }

    struct WindowExtremes {
        var currentMin = Float.infinity, currentMax = -Float.infinity
        var cellMin = Float.infinity, cellMax = -Float.infinity
        mutating func add(current: Float, cellMin lo: Float, cellMax hi: Float) {
            currentMin = min(currentMin, current); currentMax = max(currentMax, current)
            cellMin = min(cellMin, lo); cellMax = max(cellMax, hi)
        }
    }

    static func eventRecord(_ e: BMSEvent, at time: SimTime) -> EventRecord {
        // Fault events carry the sample time on the BMS's wrapping clock; the simulation's
        // own time of the step is the unambiguous one (samples are taken each step).
        var record = EventRecord(seconds: Double(time.milliseconds) / 1000, kind: e.kind.reportName,
                                 fault: e.fault?.snakeName, value: e.value, state: e.state.reportName)
        if let fault = e.fault, let index = e.index {
            if fault.concernsCell { record.cell = Int(index) + 1 } else { record.sensor = Int(index) + 1 }
        }
        if e.kind == .selfDischarge, let index = e.index { record.cell = Int(index) + 1 }
        if e.kind == .paygEntry, let index = e.index, let outcome = PAYGEntryOutcome(rawValue: index) {
            record.outcome = outcome.reportName
        }
        return record
    }

    static func row<P>(_ sim: Simulation<P>, _ r: StepRecord, _ w: WindowExtremes, _ events: [String]) -> SampleRow {
        let pack = sim.pack
        var temps: [Float] = []
        for i in 0..<r.measurement.temperatureCount { temps.append(r.measurement.temperatures[i]) }
        return SampleRow(
            seconds: Double(r.time.milliseconds) / 1000, packVoltage: r.packVoltage, current: r.current,
            currentMin: w.currentMin, currentMax: w.currentMax, socTrue: pack.packSOC,
            socEstimated: sim.bms.packSOC,
            state: r.command.state, chargeOn: pack.powerStage.switches.chargeOn,
            dischargeOn: pack.powerStage.switches.dischargeOn,
            errorFlags: sim.bms.protection.active.flags,
            cells: (0..<pack.groupCount).map { pack.groups[$0].voltage },
            cellMin: w.cellMin, cellMax: w.cellMax, temperatures: temps,
            maxCellTemperatureTrue: pack.maxCellTemperature, ambient: r.ambient, events: events)
    }
}

extension PAYGEntryOutcome {
    public var reportName: String {
        switch self {
        case .accepted: "accepted"
        case .alreadyUsed: "already_used"
        case .invalid: "invalid"
        case .lockedOut: "locked_out"
        }
    }
}

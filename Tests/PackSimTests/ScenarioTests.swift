import BMSCore
import Testing
@testable import PackSim

/// A closed-loop run recorded for the scenario checks.
struct Recorded {
    var events: [(ms: UInt64, event: BMSEvent)] = []
    var records: [StepRecord] = []
    var stats = SimulationStats()
    var config: BMSConfig

    func trips(_ fault: Fault) -> [(ms: UInt64, event: BMSEvent)] {
        events.filter { $0.event.fault == fault && $0.event.kind == .trip }
    }

    /// The first step from which `condition` held on every measurement up to `until`.
    func onset(until: UInt64, _ condition: (Measurement) -> Bool) -> UInt64? {
        var start: UInt64?
        for r in records where r.time.milliseconds <= until {
            if condition(r.measurement) { start = start ?? r.time.milliseconds } else { start = nil }
        }
        return start
    }
}

func simulate(cells: Int = 8, capacity: Float = 100, spread: SpreadPreset = .new,
              profile kind: StandardProfile.Kind = .offgridDay, initialSOC: Float = 0.5,
              seconds: Int, faults: [ScheduledFault] = [], seed: UInt64 = 5,
              keepRecords: Bool = true) throws -> Recorded {
    var setup = SimulationSetup(chemistry: .lfp, cells: cells, capacityAh: capacity)
    setup.spread = spread
    setup.initialSOC = initialSOC
    setup.seed = seed
    let profile = StandardProfile(kind, config: setup.bmsConfig!, seed: seed)
    var sim = try Simulation(setup: setup, profile: profile)
    for f in faults {
        let scheduled = sim.schedule(f)
        #expect(scheduled)
    }
    var run = Recorded(config: sim.bms.config)
    for _ in 0..<seconds {
        let r = sim.step()
        if keepRecords { run.records.append(r) }
        while let e = sim.nextEvent() { run.events.append((r.time.milliseconds, e)) }
    }
    run.stats = sim.stats
    return run
}

/// The BMS did not let current deepen any limit violation.
func expectNoLimitViolations(_ run: Recorded, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(run.stats.secondsOverVoltage == 0, sourceLocation: sourceLocation)
    #expect(run.stats.secondsUnderVoltage == 0, sourceLocation: sourceLocation)
    #expect(run.stats.secondsOverTemperature == 0, sourceLocation: sourceLocation)
}

/// The first trip of `fault` came within its delay (plus one 1 s step) of the moment its
/// condition appeared in the measurements.
func expectTripWithinDelay(_ run: Recorded, _ fault: Fault, condition: (Measurement) -> Bool,
                           sourceLocation: SourceLocation = #_sourceLocation) {
    guard let trip = run.trips(fault).first else {
        Issue.record("\(fault) never tripped", sourceLocation: sourceLocation)
        return
    }
    guard let onset = run.onset(until: trip.ms, condition) else {
        Issue.record("\(fault) tripped at \(trip.ms) ms without its condition", sourceLocation: sourceLocation)
        return
    }
    let delay = UInt64(fault.tripDelayMs(run.config))
    #expect(trip.ms - onset <= delay + 1000, "\(fault): onset \(onset) ms, trip \(trip.ms) ms",
            sourceLocation: sourceLocation)
}

@Suite struct ScenarioTests {
    @Test func chargerOvervoltageIsStoppedBeforeTheTrip() throws {
        // A CC/CV charger that regulates to 120 % pushes the cells past the charge target;
        // the run-away level marks the pack full before the over-voltage trip is reached.
        let run = try simulate(profile: .cccvCharge, initialSOC: 0.85, seconds: 4 * 3600,
                               faults: [ScheduledFault(kind: .chargerOvervoltage, atMilliseconds: 0)])
        let full = run.events.first { $0.event.kind == .full }
        #expect(full != nil)
        let maxTrue = run.records.map { $0.cellMax }.max()!
        #expect(maxTrue < run.config.cellVoltage.overvoltage + SimulationLimits.overvoltageMargin)
        // After full, no charge current flows any more.
        let after = run.records.filter { $0.time.milliseconds > full!.ms + 2000 }
        #expect(after.allSatisfy { $0.current <= 0.01 * 100 })
        expectNoLimitViolations(run)
    }

    @Test func cellShortIsCaughtOnTheShortedCell() throws {
        // From 10 % SOC the pack gets through the day without a trip; the cell leaking
        // 2 A (2 %/h) reaches the discharge cutoff in the evening, and is named.
        let healthy = try simulate(initialSOC: 0.1, seconds: 20 * 3600)
        #expect(healthy.trips(.dischargeCutoff).isEmpty)
        let run = try simulate(initialSOC: 0.1, seconds: 20 * 3600,
                               faults: [ScheduledFault(kind: .cellShort, index: 2, atMilliseconds: 0)])
        let cutoff = run.trips(.dischargeCutoff).first
        #expect(cutoff?.event.index == 2)
        expectTripWithinDelay(run, .dischargeCutoff) { m in
            var lowest = m.cellVoltages[0]
            for i in 1..<8 { lowest = min(lowest, m.cellVoltages[i]) }
            return lowest <= 2.8
        }
        expectNoLimitViolations(run)
    }

    @Test func openSenseWireTripsWithinThePlausibilityDelay() throws {
        let run = try simulate(seconds: 3600,
                               faults: [ScheduledFault(kind: .openWire, index: 2, atMilliseconds: 600_000)])
        #expect(run.trips(.openWire).first?.event.index == 2)
        expectTripWithinDelay(run, .openWire) { $0.cellVoltages[2] < 0.5 }
        // Nothing flows while the BMS cannot see the cells.
        let after = run.records.filter { $0.time.milliseconds > run.trips(.openWire)[0].ms }
        #expect(after.allSatisfy { $0.current == 0 })
        expectNoLimitViolations(run)
    }

    @Test(arguments: [InjectedFaultKind.thermistorOpen, .thermistorShort])
    func brokenThermistorTripsTheSensorFault(_ kind: InjectedFaultKind) throws {
        let run = try simulate(seconds: 1800, faults: [ScheduledFault(kind: kind, index: 1, atMilliseconds: 600_000)])
        expectTripWithinDelay(run, .temperatureSensor) { m in
            m.temperatures[1] <= -50 || m.temperatures[1] >= 150
        }
        #expect(run.trips(.temperatureSensor).first?.event.index == 1)
        expectNoLimitViolations(run)
    }

    @Test func loadShortCircuitTripsAtOnceAndIsNotReenergised() throws {
        let run = try simulate(seconds: 4 * 3600,
                               faults: [ScheduledFault(kind: .loadShort, atMilliseconds: 3_600_000)])
        let trips = run.trips(.shortCircuit)
        #expect(trips.first?.ms == 3_600_000)            // the first step with the short
        // The terminals read the short while discharge is open (load_present within two seconds
        // at 1 s steps: the debounce of one second starts at the first step with the switch
        // open), so the fault's recovery after 60 s does not close the switch onto it
        // again: one trip, no retries (before the terminal monitor: three trips and a latch).
        #expect(trips.count == 1)
        let detected = run.events.first { $0.event.kind == .loadPresent }
        #expect(detected != nil && detected!.ms - 3_600_000 <= 2000, "\(String(describing: detected?.ms))")
        #expect(run.records.filter { $0.time.milliseconds > 3_700_000 }.allSatisfy { !$0.command.switches.dischargeOn })
        // The AFE opened the discharge switch within each step: no short-circuit current
        // ever reached the cells.
        #expect(run.records.allSatisfy { $0.current > -run.config.current.shortCircuit })
        expectNoLimitViolations(run)
    }

    @Test func overloadTripsDischargeOvercurrent() throws {
        let run = try simulate(seconds: 2 * 3600,
                               faults: [ScheduledFault(kind: .overload, atMilliseconds: 3_600_000)])
        expectTripWithinDelay(run, .dischargeOvercurrent) { $0.current <= -run.config.current.dischargeOvercurrent }
        #expect(run.events.contains { $0.event.fault == .dischargeOvercurrent && $0.event.kind == .latch })
        expectNoLimitViolations(run)
    }

    @Test func silentAFEGoesToTheSafeStateWithinTheTimeout() throws {
        let run = try simulate(seconds: 2 * 3600,
                               faults: [ScheduledFault(kind: .afeSilent, atMilliseconds: 3_600_000)])
        let trip = run.trips(.afeSilent).first
        #expect(trip != nil)
        // Last fresh sample at 3 600 s; timeout 2 s: tripped when the age first exceeds it.
        #expect(trip!.ms <= 3_600_000 + UInt64(run.config.plausibility.measurementTimeoutMs) + 1000)
        let after = run.records.filter { $0.time.milliseconds > trip!.ms }
        #expect(after.allSatisfy { $0.command.switches == .allOff && $0.current == 0 })
    }

    @Test func coldAmbientStopsChargingAtZeroDegrees() throws {
        let run = try simulate(seconds: 12 * 3600,
                               faults: [ScheduledFault(kind: .coldAmbient, atMilliseconds: 0)])
        expectTripWithinDelay(run, .chargeUndertemperature) { m in
            (0..<m.temperatureCount).contains { m.temperatureRoles[$0] == .cell && m.temperatures[$0] <= 0 }
        }
        // Once the fault is active, charge current flows only in a step where the current
        // has just reversed with the charge switch closed as an ideal diode for discharge;
        // the next step has it open again.
        let trip = run.trips(.chargeUndertemperature)[0].ms
        let after = run.records.filter { $0.time.milliseconds > trip }
        for i in after.indices.dropFirst().dropLast() where after[i].current > 0.01 * 100 {
            #expect(after[i - 1].current < 0, "charge at \(after[i].time.milliseconds) ms without a reversal")
            #expect(after[i + 1].current <= 0.01 * 100, "charge went on at \(after[i + 1].time.milliseconds) ms")
        }
        expectNoLimitViolations(run)
    }

    @Test func hotAmbientStopsBothDirections() throws {
        let run = try simulate(seconds: 12 * 3600,
                               faults: [ScheduledFault(kind: .hotAmbient, atMilliseconds: 0)])
        expectTripWithinDelay(run, .chargeOvertemperature) { m in
            (0..<m.temperatureCount).contains { m.temperatureRoles[$0] == .cell && m.temperatures[$0] >= 45 }
        }
        #expect(!run.trips(.dischargeOvertemperature).isEmpty)
        expectNoLimitViolations(run)
    }

    /// 30 days of a second-life 16S pack with sensor noise on the off-grid profile: the BMS
    /// must not trip once (a trip there would stop a household's power for nothing).
    @Test func thirtyDaysOfASecondLifePackWithNoiseHaveNoFalseTrip() throws {
        let run = try simulate(cells: 16, capacity: 280, spread: .secondLife, seconds: 30 * 86_400,
                               seed: 3, keepRecords: false)
        let trips = run.events.filter { $0.event.kind == .trip }
        #expect(trips.isEmpty, "\(trips.map { ($0.ms / 1000, $0.event.fault!) })")
        expectNoLimitViolations(run)
        // …and the pack did work: it cycled energy every day.
        #expect(run.stats.energyDischargedWh > 30 * 0.2 * 280 * 51.2)
        #expect(run.stats.unservedLoadWh == 0)
    }

    @Test func sameSeedSameRunOtherSeedOtherRun() throws {
        func fingerprint(_ seed: UInt64) throws -> [Float] {
            let run = try simulate(spread: .secondLife, seconds: 7200, seed: seed)
            return run.records.flatMap { r in
                [r.current, r.packVoltage, r.measurement.current] + (0..<8).map { r.measurement.cellVoltages[$0] }
            }
        }
        let a = try fingerprint(11), b = try fingerprint(11), c = try fingerprint(12)
        #expect(a == b)
        #expect(a != c)
    }
}

/// The BMS's own SOC estimate against the simulator's truth, in closed loop.
@Suite struct EstimateInClosedLoopTests {
    func rmsError(chemistry: Chemistry, cells: Int, capacity: Float, days: Int) throws -> (rms: Float, max: Float) {
        var setup = SimulationSetup(chemistry: chemistry, cells: cells, capacityAh: capacity)
        setup.seed = 3
        let profile = StandardProfile(.offgridDay, config: setup.bmsConfig!, seed: 3)
        var sim = try Simulation(setup: setup, profile: profile)
        var sum: Float = 0, worst: Float = 0, n: Float = 0
        for k in 0..<(days * 86_400) {
            sim.step()
            while sim.nextEvent() != nil {}
            if k % 60 == 0, let estimate = sim.bms.packSOC {
                let e = estimate - sim.pack.packSOC
                sum += e * e; n += 1
                worst = max(worst, abs(e))
            }
        }
        return ((sum / n).squareRoot(), worst)
    }

    @Test func nmcPackEstimateFollowsTheTruth() throws {
        let (rms, worst) = try rmsError(chemistry: .nmc, cells: 8, capacity: 100, days: 2)
        #expect(rms < 0.015, "RMS \(rms)")
        #expect(worst < 0.04, "max \(worst)")
    }

    @Test func lfpPackEstimateStaysWithinAFewPercentOnThePlateau() throws {
        let (rms, worst) = try rmsError(chemistry: .lfp, cells: 8, capacity: 100, days: 2)
        #expect(rms < 0.04, "RMS \(rms)")
        #expect(worst < 0.10, "max \(worst)")
    }
}

/// Capacity learned by the BMS against the simulated cells' own.
@Suite struct StateOfHealthInClosedLoopTests {
    func learnedCapacities<P: PowerProfile>(_ setup: SimulationSetup, _ profile: P, days: Double) throws
        -> (worst: Float, samples: Int, sim: Simulation<P>) {
        var sim = try Simulation(setup: setup, profile: profile)
        for _ in 0..<Int(days * 86_400) {
            sim.step()
            while sim.nextEvent() != nil {}
        }
        var worst: Float = 0, samples = Int.max
        for i in 0..<setup.cells {
            let truth = sim.pack.groups[i].capacityAh
            let cell = sim.bms.estimator.cell(i)!
            worst = max(worst, abs(cell.capacity.capacityAh - truth) / truth)
            samples = min(samples, cell.capacity.samples)
        }
        return (worst, samples, sim)
    }

    /// A second-life NMC pack (capacities ±15 %, one group at 60 %) on off-grid days: the
    /// rests at the top and at night, and the daily swing between them (small for the
    /// healthy cells: the weak one limits the pack), teach every cell's capacity.
    @Test func secondLifeNMCOnOffGridDays() throws {
        var setup = SimulationSetup(chemistry: .nmc, cells: 8, capacityAh: 100)
        setup.spread = .secondLife
        setup.seed = 5
        let profile = StandardProfile(.offgridDay, config: setup.bmsConfig!, seed: 5)
        let (worst, samples, sim) = try learnedCapacities(setup, profile, days: 10)
        #expect(samples >= 3)
        #expect(worst < 0.03, "worst relative error \(worst)")
        // The weak group (60 %) is the one named, and the SOH is its capacity.
        #expect(sim.bms.weakCells!.lowestCapacity == 5)
        #expect(abs(sim.bms.stateOfHealth! - sim.pack.groups[5].capacityAh / 100) < 0.03)
    }

    /// Full cycles on LFP, whose curve names the SOC only at its knees: charge at C/4 to
    /// the charge target, rest, discharge at C/4 to the cutoff, rest. The BMS is told 115 Ah
    /// for 100 Ah cells (a wrong label, or cells that have aged) and finds the truth.
    @Test func lfpFullCyclesWithAWrongLabel() throws {
        var setup = SimulationSetup(chemistry: .lfp, cells: 8, capacityAh: 100)
        setup.seed = 9
        var config = setup.bmsConfig!
        config.pack.capacityAh = 115
        setup.config = config
        let (worst, samples, _) = try learnedCapacities(setup, CapacityTestCycles(config: config), days: 4)
        #expect(samples >= 3)
        #expect(worst < 0.03, "worst relative error \(worst)")
    }
}

/// A capacity test, repeated: 5 h charging at C/4 (CC-CV to the charge target), 1 h rest,
/// 5 h discharging at C/4 (to the BMS's cutoff), 1 h rest.
struct CapacityTestCycles: PowerProfile {
    let amps: Float
    let chargeVoltage: Float
    let dischargeW: Float

    init(config: BMSConfig) {
        let cells = Float(Int(config.pack.seriesCells))
        amps = 100.0 / 4
        chargeVoltage = config.cellVoltage.chargeTarget * cells
        dischargeW = amps * 3.2 * cells
    }

    func demand(at time: SimTime) -> TerminalDemand {
        var d = TerminalDemand()
        let hour = (time.milliseconds / 3_600_000) % 12
        if hour < 5 {
            d.sourceW = 2 * amps * chargeVoltage
            d.sourceCurrentLimit = amps
            d.sourceVoltageLimit = chargeVoltage
        } else if hour >= 6 && hour < 11 {
            d.loadW = dischargeW
        }
        return d
    }
}

import Testing
@testable import BMSCore

/// One threshold under test: how to put a value into a sample, where it trips, in which
/// direction, and the measurement resolution (one LSB) around it.
struct ThresholdCase: CustomStringConvertible, Sendable {
    var fault: Fault
    var threshold: @Sendable (BMSConfig) -> Float
    /// True when the fault trips at or above the threshold, false at or below.
    var over: Bool
    var lsb: Float
    var apply: @Sendable (inout Measurement, Float) -> Void
    var description: String { "\(fault)" }
}

let thresholdCases: [ThresholdCase] = [
    ThresholdCase(fault: .cellOvervoltage, threshold: { $0.cellVoltage.overvoltage }, over: true,
                  lsb: 0.001, apply: { $0.setCell(5, to: $1) }),
    ThresholdCase(fault: .dischargeCutoff, threshold: { $0.cellVoltage.dischargeCutoff }, over: false,
                  lsb: 0.001, apply: { $0.setCell(3, to: $1) }),
    ThresholdCase(fault: .cellUndervoltage, threshold: { $0.cellVoltage.undervoltage }, over: false,
                  lsb: 0.001, apply: { $0.setCell(15, to: $1) }),
    ThresholdCase(fault: .chargeOvercurrent, threshold: { $0.current.chargeOvercurrent }, over: true,
                  lsb: 0.01, apply: { $0.current = $1 }),
    ThresholdCase(fault: .dischargeOvercurrent, threshold: { $0.current.dischargeOvercurrent }, over: true,
                  lsb: 0.01, apply: { $0.current = -$1 }),
    ThresholdCase(fault: .shortCircuit, threshold: { $0.current.shortCircuit }, over: true,
                  lsb: 0.01, apply: { $0.current = -$1 }),
    ThresholdCase(fault: .chargeOvertemperature, threshold: { $0.temperature.chargeMaximum }, over: true,
                  lsb: 0.1, apply: { $0.temperatures[0] = $1 }),
    ThresholdCase(fault: .dischargeOvertemperature, threshold: { $0.temperature.dischargeMaximum }, over: true,
                  lsb: 0.1, apply: { $0.temperatures[0] = $1 }),
    ThresholdCase(fault: .chargeUndertemperature, threshold: { $0.temperature.chargeMinimum }, over: false,
                  lsb: 0.1, apply: { $0.temperatures[0] = $1 }),
    ThresholdCase(fault: .dischargeUndertemperature, threshold: { $0.temperature.dischargeMinimum }, over: false,
                  lsb: 0.1, apply: { $0.temperatures[0] = $1 }),
    ThresholdCase(fault: .mosfetOvertemperature, threshold: { $0.temperature.mosfetMaximum }, over: true,
                  lsb: 0.1, apply: { $0.temperatures[1] = $1 }),
    ThresholdCase(fault: .boardOvertemperature, threshold: { $0.temperature.boardMaximum }, over: true,
                  lsb: 0.1, apply: { $0.temperatures[2] = $1 }),
    // Spread built from exactly representable cells: 3.0 V and 3.0 V + x, both inside the
    // window (discharge cutoff … charge target) where imbalance is judged.
    ThresholdCase(fault: .cellImbalance, threshold: { $0.cellVoltage.imbalanceLimit }, over: true,
                  lsb: 0.001, apply: { m, x in
                      for i in 0..<16 { m.cellVoltages[i] = 3.0 }
                      m.setCell(7, to: 3.0 + x)
                  }),
]

@Suite struct ProtectionTests {
    /// Runs 100 ms cycles for the trip delay plus one second with the value held at `x`.
    func held(_ c: ThresholdCase, at x: Float) -> Rig {
        let config = lfp16()
        var rig = Rig(config)
        let delay = c.fault.tripDelayMs(config)
        rig.run(until: delay + 1000) { t in
            var m = sample(at: t, cell: 3.25)
            c.apply(&m, x)
            return m
        }
        return rig
    }

    @Test(arguments: thresholdCases)
    func oneLSBInsideTheLimitNeverTrips(_ c: ThresholdCase) {
        let t = c.threshold(lfp16())
        let rig = held(c, at: c.over ? t - c.lsb : t + c.lsb)
        #expect(!rig.isActive(c.fault))
        #expect(!rig.kinds(c.fault).contains(.trip))
    }

    @Test(arguments: thresholdCases)
    func atTheLimitTrips(_ c: ThresholdCase) {
        let rig = held(c, at: c.threshold(lfp16()))
        #expect(rig.isActive(c.fault))
    }

    @Test(arguments: thresholdCases)
    func oneLSBBeyondTheLimitTrips(_ c: ThresholdCase) {
        let t = c.threshold(lfp16())
        let rig = held(c, at: c.over ? t + c.lsb : t - c.lsb)
        #expect(rig.isActive(c.fault))
        #expect(rig.kinds(c.fault).first(where: { $0 == .trip }) != nil)
    }

    /// Held from t = 0 in 100 ms cycles: still clear at delay − 100 ms, tripped at the delay.
    @Test(arguments: thresholdCases)
    func tripsExactlyAtTheDelay(_ c: ThresholdCase) {
        let config = lfp16()
        let delay = c.fault.tripDelayMs(config)
        var rig = Rig(config)
        let beyond = c.over ? c.threshold(config) + c.lsb : c.threshold(config) - c.lsb
        func make(_ t: UInt32) -> Measurement {
            var m = sample(at: t, cell: 3.25)
            c.apply(&m, beyond)
            return m
        }
        if delay >= 100 {
            rig.run(until: delay - 100, make)
            #expect(!rig.isActive(c.fault), "tripped before \(delay) ms")
        }
        rig.step(at: delay, make)
        #expect(rig.isActive(c.fault), "not tripped at \(delay) ms")
        let trip = rig.events.first { $0.fault == c.fault && $0.kind == .trip }
        #expect(trip?.time.milliseconds == delay)
    }

    @Test func delayCountsElapsedTimeNotCycles() {
        // Jittery cycles: 70, 180, 30, 400 … ms. OV delay 2000 ms from the first sample.
        var rig = Rig()
        let steps: [UInt32] = [0, 70, 250, 280, 680, 1000, 1500, 1999]
        for t in steps {
            rig.step(at: t) { t in var m = sample(at: t); m.setCell(0, to: 3.9); return m }
        }
        #expect(!rig.isActive(.cellOvervoltage))
        rig.step(at: 2000) { t in var m = sample(at: t); m.setCell(0, to: 3.9); return m }
        #expect(rig.isActive(.cellOvervoltage))
    }

    @Test func aCleanSampleRestartsTheDelay() {
        var rig = Rig()
        let high: (UInt32) -> Measurement = { t in var m = sample(at: t); m.setCell(0, to: 3.9); return m }
        rig.run(until: 1900, high)
        rig.step(at: 2000) { sample(at: $0) }          // one sample back inside
        rig.run(until: 3900, high)                     // 1800 ms since the restart at 2100
        #expect(!rig.isActive(.cellOvervoltage))
        rig.step(at: 4100, high)
        #expect(rig.isActive(.cellOvervoltage))
    }

    @Test func overvoltageReleasesOnlyAtTheResetVoltage() {
        var rig = Rig()
        rig.run(until: 2000) { t in var m = sample(at: t); m.setCell(4, to: 3.85); return m }
        #expect(rig.isActive(.cellOvervoltage))
        rig.step(at: 2100) { t in var m = sample(at: t); m.setCell(4, to: 3.401); return m }
        #expect(rig.isActive(.cellOvervoltage))
        rig.step(at: 2200) { t in var m = sample(at: t); m.setCell(4, to: 3.400); return m }
        #expect(!rig.isActive(.cellOvervoltage))
        #expect(rig.kinds(.cellOvervoltage) == [.warning, .warningCleared, .trip, .release]
                || rig.kinds(.cellOvervoltage).filter { $0 == .trip || $0 == .release } == [.trip, .release])
    }

    @Test func temperatureReleasesAfterHysteresis() {
        var rig = Rig()
        rig.run(until: 2000) { t in var m = sample(at: t); m.temperatures[0] = 46; return m }
        #expect(rig.isActive(.chargeOvertemperature))
        rig.step(at: 2100) { t in var m = sample(at: t); m.temperatures[0] = 40.1; return m }
        #expect(rig.isActive(.chargeOvertemperature))
        rig.step(at: 2200) { t in var m = sample(at: t); m.temperatures[0] = 40.0; return m }
        #expect(!rig.isActive(.chargeOvertemperature))
    }

    @Test func overcurrentWaitsForTheRecoveryDelay() {
        var rig = Rig()
        rig.run(until: 400) { t in sample(at: t, current: -120) }
        #expect(rig.isActive(.dischargeOvercurrent))
        let trippedAt = rig.events.first { $0.fault == .dischargeOvercurrent && $0.kind == .trip }!.time.milliseconds
        #expect(trippedAt == 400)                      // first 100 ms cycle at or after 320 ms
        rig.run(until: trippedAt + 59_900) { t in sample(at: t) }
        #expect(rig.isActive(.dischargeOvercurrent))
        rig.step(at: trippedAt + 60_000) { sample(at: $0) }
        #expect(!rig.isActive(.dischargeOvercurrent))
    }

    @Test func overcurrentLatchesAtTheFifthTripWithinTheWindow() {
        var rig = Rig()
        for n in 1...5 {
            let start = rig.now
            rig.run(until: start + 400) { t in sample(at: t, current: -120) }
            #expect(rig.isActive(.dischargeOvercurrent))
            #expect(rig.bms.protection.latched.contains(.dischargeOvercurrent) == (n == 5), "trip \(n)")
            rig.run(until: rig.now + 61_000) { t in sample(at: t) }
        }
        // Latched: hours later, with no current at all, still active.
        rig.run(until: rig.now + 7_200_000, period: 10_000) { t in sample(at: t) }
        #expect(rig.isActive(.dischargeOvercurrent))
        #expect(rig.kinds(.dischargeOvercurrent).filter { $0 == .latch }.count == 1)
        // The documented action clears it, and it releases at the next step.
        rig.bms.resetFaults(at: Timestamp(milliseconds: rig.now))
        rig.step(at: rig.now + 100) { sample(at: $0) }
        #expect(!rig.isActive(.dischargeOvercurrent))
        #expect(rig.events.contains { $0.kind == .latchCleared })
    }

    @Test func tripsSpreadBeyondTheWindowNeverLatch() {
        var config = lfp16()
        config.recovery[.shortCircuit] = RecoveryPolicy(delaySeconds: 60, latchAfter: 3, windowSeconds: 600)
        var rig = Rig(config)
        for _ in 1...6 {
            rig.step(at: rig.now) { sample(at: $0, current: -250) }
            #expect(rig.isActive(.shortCircuit))
            rig.run(until: rig.now + 301_000, period: 1000) { sample(at: $0) }
        }
        #expect(rig.bms.protection.latched.isEmpty)
        #expect(!rig.isActive(.shortCircuit))
    }

    @Test func latchAfterOneLatchesOnTheFirstTrip() {
        var config = lfp16()
        config.recovery[.cellUndervoltage] = RecoveryPolicy(delaySeconds: 0, latchAfter: 1)
        var rig = Rig(config)
        rig.run(until: 2000) { t in var m = sample(at: t); m.setCell(2, to: 2.4); return m }
        #expect(rig.bms.protection.latched.contains(.cellUndervoltage))
        rig.run(until: 10_000) { sample(at: $0) }       // cells recovered above the reset
        #expect(rig.isActive(.cellUndervoltage))
    }

    @Test func afeShortCircuitFlagTripsOnTheFirstSample() {
        var rig = Rig()
        rig.step(at: 0) { t in var m = sample(at: t, current: -5); m.afeFlags = [.shortCircuit]; return m }
        #expect(rig.isActive(.shortCircuit))
        #expect(rig.bms.command.switches.dischargeOn == false)
    }

    @Test func staleMeasurementPutsThePackInTheSafeState() {
        var rig = Rig()
        let old = sample(at: 0)
        rig.now = 0
        rig.step(old)
        #expect(rig.bms.command.state == .normal)
        rig.now = 2000                                 // age 2000 ms: still acceptable
        rig.step(old)
        #expect(!rig.isActive(.afeSilent))
        rig.now = 2001
        let command = rig.step(old)
        #expect(rig.isActive(.afeSilent))
        #expect(command.switches == .allOff)
        #expect(command.state == .off)
        // The AFE answers again: released at once.
        rig.now = 2100
        rig.step(sample(at: 2100))
        #expect(!rig.isActive(.afeSilent))
        // A sample stamped slightly after the step's clock reading is fresh, not stale.
        rig.step(sample(at: 2150))
        #expect(!rig.isActive(.afeSilent))
        #expect(rig.bms.command.state == .normal)
    }

    @Test func staleSampleNeitherTripsNorReleasesOtherFaults() {
        var rig = Rig()
        var over = sample(at: 0); over.setCell(0, to: 3.9)
        for t in stride(from: UInt32(0), through: 5000, by: 100) {
            rig.now = t
            rig.step(over)                            // the same old sample, repeated
        }
        #expect(rig.isActive(.afeSilent))
        #expect(!rig.isActive(.cellOvervoltage))      // 0 ms of fresh evidence
    }

    @Test func openSenseWireIsDetectedFromTheCellRange() {
        var rig = Rig()
        rig.run(until: 900) { t in var m = sample(at: t); m.setCell(9, to: 0.3); return m }
        #expect(!rig.isActive(.openWire))
        rig.step(at: 1000) { t in var m = sample(at: t); m.setCell(9, to: 0.3); return m }
        #expect(rig.isActive(.openWire))
        #expect(rig.events.last { $0.fault == .openWire }?.index == 9)
        #expect(rig.bms.command.switches == .allOff)
    }

    @Test func cellSumDisagreeingWithStackIsAnOpenWire() {
        var tolerated = Rig()
        tolerated.run(until: 2000) { t in var m = sample(at: t); m.stackVoltage! += 0.79; return m }
        #expect(!tolerated.isActive(.openWire))
        var broken = Rig()
        broken.run(until: 2000) { t in var m = sample(at: t); m.stackVoltage! += 0.81; return m }
        #expect(broken.isActive(.openWire))
    }

    @Test func imbalanceIsNotJudgedAtTheKnees() {
        // One LFP cell at 3.70 V at the top of charge, the rest at 3.20 V: 0.5 V apart, but
        // above the charge target, where a small SOC difference looks large.
        var rig = Rig()
        rig.run(until: 10_000) { t in var m = sample(at: t, cell: 3.2); m.setCell(2, to: 3.7); return m }
        #expect(!rig.isActive(.cellImbalance))
        #expect(!rig.kinds(.cellImbalance).contains(.warning))
        // The same spread in the middle of the curve trips.
        rig.run(until: 20_000) { t in var m = sample(at: t, cell: 3.0); m.setCell(2, to: 3.5); return m }
        #expect(rig.isActive(.cellImbalance))
        // Back at a knee it holds: neither trips again nor releases.
        rig.run(until: 30_000) { t in var m = sample(at: t, cell: 3.2); m.setCell(2, to: 3.7); return m }
        #expect(rig.isActive(.cellImbalance))
    }

    @Test func openWireDoesNotAlsoTripVoltageFaults() {
        var rig = Rig()
        rig.run(until: 5000) { t in var m = sample(at: t); m.setCell(9, to: 0.0); return m }
        #expect(rig.isActive(.openWire))
        #expect(!rig.isActive(.cellUndervoltage))
        #expect(!rig.isActive(.dischargeCutoff))
        #expect(!rig.isActive(.cellImbalance))
    }

    @Test func noCellSensorAtAllIsASensorFault() {
        var rig = Rig()
        rig.run(until: 1000) { t in
            var m = Measurement(timestamp: Timestamp(milliseconds: t), cellVoltage: 3.3)
            m.addTemperature(30, role: .mosfet)
            return m
        }
        #expect(rig.isActive(.temperatureSensor))
        #expect(rig.bms.command.switches == .allOff)
    }

    @Test func afeOvercurrentFlagTripsWithoutTheSoftwareDelay() {
        var rig = Rig()
        rig.step(at: 0) { t in var m = sample(at: t, current: -30); m.afeFlags = [.dischargeOvercurrent]; return m }
        #expect(rig.isActive(.dischargeOvercurrent))
        rig.step(at: 100) { t in var m = sample(at: t, current: 30); m.afeFlags = [.chargeOvercurrent]; return m }
        #expect(rig.isActive(.chargeOvercurrent))
    }

    @Test func resetBringsBackAPackStoppedByTheFullCutoffOnceTheCellIsAboveIt() {
        // The other cells at 2.9 V keep the spread under the 0.5 V imbalance limit.
        var rig = Rig()
        rig.run(until: 2000) { t in var m = sample(at: t, cell: 2.9); m.setCell(3, to: 2.45); return m }
        #expect(rig.bms.command.state == .off)
        // Rested to 2.6 V: above the full cutoff, below its 3.1 V release. No release alone…
        rig.run(until: 60_000, period: 1000) { t in var m = sample(at: t, cell: 2.9); m.setCell(3, to: 2.6); return m }
        #expect(rig.isActive(.cellUndervoltage))
        // …but the manual reset releases it; the discharge cutoff keeps discharge off.
        rig.bms.resetFaults(at: Timestamp(milliseconds: rig.now))
        rig.step(at: rig.now + 100) { t in var m = sample(at: t, cell: 2.9); m.setCell(3, to: 2.6); return m }
        #expect(!rig.isActive(.cellUndervoltage))
        #expect(rig.isActive(.dischargeCutoff))
        #expect(rig.bms.command.state == .chargeOnly)
    }

    @Test func resetDoesNotReleaseAFaultWhoseConditionIsStillThere() {
        var rig = Rig()
        rig.run(until: 2000) { t in var m = sample(at: t); m.setCell(3, to: 2.45); return m }
        rig.bms.resetFaults(at: Timestamp(milliseconds: rig.now))
        rig.run(until: 10_000) { t in var m = sample(at: t); m.setCell(3, to: 2.45); return m }
        #expect(rig.isActive(.cellUndervoltage))
        #expect(rig.bms.command.state == .off)
    }

    @Test func eventsReportTheStateTheStepEndedIn() {
        var rig = Rig()
        rig.run(until: 2000) { t in var m = sample(at: t); m.setCell(0, to: 3.9); return m }
        let trip = rig.events.first { $0.fault == .cellOvervoltage && $0.kind == .trip }
        #expect(trip?.state == .dischargeOnly)
    }

    @Test func openOrShortedThermistorIsASensorFault() {
        for reading: Float in [-50, 150, .nan] {
            var rig = Rig()
            rig.run(until: 1000) { t in var m = sample(at: t); m.temperatures[0] = reading; return m }
            #expect(rig.isActive(.temperatureSensor), "\(reading)")
            #expect(rig.bms.command.switches == .allOff)
            // and the broken reading is not taken for a temperature
            #expect(!rig.isActive(.chargeUndertemperature) && !rig.isActive(.chargeOvertemperature))
        }
    }

    @Test func switchReadbackMismatchIsReportedButBlocksNothing() {
        var rig = Rig()
        rig.run(until: 1500) { t in var m = sample(at: t); m.dischargeSwitchReadback = false; return m }
        #expect(rig.isActive(.dischargeSwitchFailure))
        #expect(rig.bms.command.state == .normal)
    }

    @Test func preAlarmComesBeforeTheTripAndClearsWithADeadBand() {
        var rig = Rig()
        // LFP: OV 3.80 V, margin 0.10 V → warning at 3.70 V.
        rig.run(until: 2500) { t in var m = sample(at: t); m.setCell(1, to: 3.699); return m }
        #expect(rig.bms.protection.warnings.isEmpty)
        rig.run(until: 5000) { t in var m = sample(at: t); m.setCell(1, to: 3.70); return m }
        #expect(rig.bms.protection.warnings.contains(.cellOvervoltage))
        #expect(!rig.isActive(.cellOvervoltage))
        // Dead band is a quarter of the margin: 3.68 keeps it, 3.674 clears it.
        rig.step(at: 5100) { t in var m = sample(at: t); m.setCell(1, to: 3.68); return m }
        #expect(rig.bms.protection.warnings.contains(.cellOvervoltage))
        rig.step(at: 5200) { t in var m = sample(at: t); m.setCell(1, to: 3.674); return m }
        #expect(!rig.bms.protection.warnings.contains(.cellOvervoltage))
        #expect(rig.kinds(.cellOvervoltage) == [.warning, .warningCleared])
    }

    @Test func dischargeCutoffWarningWarnsBeforeThePackIsEmpty() {
        var rig = Rig()
        rig.run(until: 3000) { t in var m = sample(at: t, current: -20); m.setCell(6, to: 2.85); return m }
        #expect(rig.bms.protection.warnings.contains(.dischargeCutoff))
        #expect(rig.bms.command.state == .normal)
    }

    @Test func eventsNameTheCellAndTheValue() {
        var rig = Rig()
        rig.run(until: 2000) { t in var m = sample(at: t); m.setCell(11, to: 2.75); return m }
        let trip = rig.events.first { $0.fault == .dischargeCutoff && $0.kind == .trip }
        #expect(trip?.index == 11)
        #expect(trip?.value == 2.75)
        #expect(trip?.time.milliseconds == 2000)
    }
}

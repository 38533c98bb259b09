import Testing
@testable import BMSCore

@Suite struct BatteryManagerTests {
    @Test func healthyPackRunsNormal() {
        var rig = Rig()
        let command = rig.step(at: 0) { sample(at: $0) }
        #expect(command.state == .normal)
        #expect(command.switches == SwitchCommand(chargeOn: true, dischargeOn: true))
        #expect(rig.events.map(\.kind) == [.stateChange])
    }

    @Test func dischargeCutoffStopsOnlyDischargeSoTheInverterCanRecharge() {
        var rig = Rig()
        rig.run(until: 2000) { t in var m = sample(at: t, current: -10); m.setCell(3, to: 2.79); return m }
        #expect(rig.isActive(.dischargeCutoff))
        #expect(!rig.isActive(.cellUndervoltage))
        #expect(rig.bms.command.state == .chargeOnly)
        // A hybrid inverter pushes 15 A in: the discharge switch closes as an ideal diode.
        rig.step(at: 2100) { t in var m = sample(at: t, current: 15); m.setCell(3, to: 2.95); return m }
        #expect(rig.bms.command.switches == SwitchCommand(chargeOn: true, dischargeOn: true))
        // Back to normal once the lowest cell is at the release voltage.
        rig.step(at: 2200) { t in var m = sample(at: t, current: 15); m.setCell(3, to: 3.10); return m }
        #expect(rig.bms.command.state == .normal)
    }

    @Test func fullCutoffStopsBothDirections() {
        var rig = Rig()
        rig.run(until: 2000) { t in var m = sample(at: t); m.setCell(3, to: 2.5); return m }
        #expect(rig.isActive(.cellUndervoltage))
        #expect(rig.bms.command.state == .off)
        #expect(rig.bms.command.switches == .allOff)
    }

    @Test func fullIsDetectedAtTargetWithTailCurrentAndClearedAtRecharge() {
        var rig = Rig()
        // 3.55 V with 20 A (above the 5 A tail): constant-current phase, not full.
        rig.run(until: 120_000, period: 1000) { t in sample(at: t, cell: 3.55, current: 20) }
        #expect(!rig.bms.fullDetector.isFull)
        // Tail current from t = 121 s: full after 60 s.
        rig.run(until: 180_000, period: 1000) { t in sample(at: t, cell: 3.55, current: 5) }
        #expect(!rig.bms.fullDetector.isFull)
        rig.step(at: 181_000) { sample(at: $0, cell: 3.55, current: 4) }
        #expect(rig.bms.fullDetector.isFull)
        #expect(rig.bms.command.state == .dischargeOnly)
        #expect(rig.events.contains { $0.kind == .full })
        // Resting at 3.36 V: still full; at 3.349 V: charge allowed again.
        rig.step(at: 182_000) { sample(at: $0, cell: 3.36) }
        #expect(rig.bms.fullDetector.isFull)
        rig.step(at: 183_000) { sample(at: $0, cell: 3.349) }
        #expect(!rig.bms.fullDetector.isFull)
        #expect(rig.bms.command.state == .normal)
    }

    @Test func aCellRunningAwayUnderChargeMarksThePackFullBeforeItTrips() {
        var rig = Rig()
        // One LFP cell at 3.674 V while 40 A still flow: below the run-away level (3.675 V).
        rig.run(until: 10_000) { t in var m = sample(at: t, current: 40); m.setCell(5, to: 3.674); return m }
        #expect(!rig.bms.fullDetector.isFull)
        // At 3.675 V: full after the over-voltage delay (2 s), with no fault.
        rig.run(until: 11_900) { t in var m = sample(at: t, current: 40); m.setCell(5, to: 3.675); return m }
        #expect(!rig.bms.fullDetector.isFull)
        rig.step(at: 12_000) { t in var m = sample(at: t, current: 40); m.setCell(5, to: 3.675); return m }
        #expect(!rig.bms.fullDetector.isFull)     // condition seen first at 10 100 ms
        rig.step(at: 12_100) { t in var m = sample(at: t, current: 40); m.setCell(5, to: 3.675); return m }
        #expect(rig.bms.fullDetector.isFull)
        #expect(rig.bms.command.state == .dischargeOnly)
        #expect(rig.bms.protection.active.isEmpty)
    }

    @Test func overvoltageTripAlsoMarksFull() {
        var rig = Rig()
        rig.run(until: 2000) { t in var m = sample(at: t); m.setCell(0, to: 3.85); return m }
        #expect(rig.isActive(.cellOvervoltage))
        #expect(rig.bms.fullDetector.isFull)
        // Released at 3.40 V, but charging waits for the recharge level (3.35 V).
        rig.step(at: 2100) { t in var m = sample(at: t); m.setCell(0, to: 3.39); return m }
        #expect(!rig.isActive(.cellOvervoltage))
        #expect(rig.bms.command.state == .dischargeOnly)
        rig.step(at: 2200) { t in var m = sample(at: t); m.setCell(0, to: 3.34); return m }
        #expect(rig.bms.command.state == .normal)
    }

    @Test func enableInputsGateEachDirection() {
        var rig = Rig()
        rig.bms.inputs.chargeEnable = false
        let c0 = rig.step(at: 0) { sample(at: $0) }
        #expect(c0.state == .dischargeOnly)
        rig.bms.inputs.dischargeEnable = false
        let c100 = rig.step(at: 100) { sample(at: $0) }
        #expect(c100.state == .off)
        rig.bms.inputs = EnableInputs()
        let c200 = rig.step(at: 200) { sample(at: $0) }
        #expect(c200.state == .normal)
    }

    @Test func enableInputsStartFromTheConfiguration() throws {
        var config = lfp16()
        config.inputs.dischargeEnable = false
        var rig = Rig(config)
        let c0 = rig.step(at: 0) { sample(at: $0) }
        #expect(c0.state == .chargeOnly)
    }

    @Test func shutdownKeepsEverythingOff() {
        var rig = Rig()
        rig.step(at: 0) { sample(at: $0) }
        rig.bms.shutdown(at: Timestamp(milliseconds: 50))
        let c100 = rig.step(at: 100) { sample(at: $0) }
        #expect(c100.switches == .allOff)
        #expect(rig.bms.command.state == .shutdown)
    }

    @Test func validConfigurationIsAppliedWithAnEvent() throws {
        var rig = Rig()
        var config = lfp16()
        config.cellVoltage.overvoltage = 3.65
        config.warnings.voltage = 0.05
        try rig.bms.apply(config, at: Timestamp(milliseconds: 10))
        #expect(rig.bms.config.cellVoltage.overvoltage == 3.65)
        rig.run(until: 2000) { t in var m = sample(at: t); m.setCell(0, to: 3.66); return m }
        #expect(rig.isActive(.cellOvervoltage))
        #expect(rig.events.first?.kind == .configApplied)
    }

    @Test func eventQueueCountsWhatItCannotHold() {
        var bms = try! BatteryManager(config: lfp16())
        // Toggle the charge input 70 times without draining: 70 state changes.
        for i in 0..<70 {
            bms.inputs.chargeEnable = i % 2 == 0
            _ = bms.step(sample(at: UInt32(i) * 100), now: Timestamp(milliseconds: UInt32(i) * 100))
        }
        #expect(bms.droppedEvents == 6)
        var drained = 0
        while bms.nextEvent() != nil { drained += 1 }
        #expect(drained == 64)
    }
}

@Suite struct FullAndOvervoltageTests {
    /// NMC: over-voltage releases at 4.05 V, below the 4.10 V recharge level. A cell resting
    /// between them must not make full flip at every step.
    @Test func overvoltageBetweenReleaseAndRechargeDoesNotFloodEvents() {
        var rig = Rig(BMSConfig.preset(.nmc, cells: 16, capacityAh: 100)!)
        rig.run(until: 2000) { t in var m = sample(at: t, cell: 3.9); m.setCell(0, to: 4.30); return m }
        #expect(rig.isActive(.cellOvervoltage))
        rig.run(until: 600_000, period: 1000) { t in var m = sample(at: t, cell: 3.9); m.setCell(0, to: 4.08); return m }
        #expect(rig.events.filter { $0.kind == .full }.count == 1)
        #expect(rig.events.filter { $0.kind == .fullCleared }.isEmpty)
        // Released at 4.05 V, which is below the recharge level: charging resumes.
        rig.step(at: 601_000) { t in var m = sample(at: t, cell: 3.9); m.setCell(0, to: 4.05); return m }
        rig.step(at: 602_000) { t in var m = sample(at: t, cell: 3.9); m.setCell(0, to: 4.05); return m }
        #expect(!rig.isActive(.cellOvervoltage))
        #expect(rig.bms.command.state == .normal)
    }
}

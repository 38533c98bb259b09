import Testing
@testable import BMSCore

@Suite struct CalibrationTests {
    @Test func correctsCurrentCellsAndSensors() {
        var c = MeasurementCalibration()
        c.currentGain = 1.02
        c.currentOffset = 0.5
        c.cellGain[0] = 1.01
        c.cellOffset[0] = 0.01
        c.cellOffset[15] = 0.02
        c.temperatureOffset[1] = 1.5
        var m = sample(at: 0, cell: 3.3, current: 10.5)
        m.cellVoltages[15] = 3.32
        c.apply(to: &m, cells: 15)
        #expect(abs(m.current - 10.2) < 1e-4)              // 1.02 × (10.5 − 0.5)
        #expect(abs(m.cellVoltages[0] - 3.3229) < 1e-4)    // 1.01 × (3.3 − 0.01)
        #expect(m.cellVoltages[1] == 3.3)
        #expect(m.cellVoltages[15] == 3.32)                // beyond the pack's 15 cells: untouched
        #expect(m.temperatures[0] == 25 && m.temperatures[1] == 23.5 && m.temperatures[2] == 25)
    }

    @Test func protectionSeesTheCalibratedCell() {
        // The LFP preset trips over-voltage at 3.80 V. Cell 3's channel reads 15 mV high.
        var config = lfp16()
        config.calibration.cellOffset[2] = 0.015
        var rig = Rig(config)
        rig.run(until: 10_000) { t in var m = sample(at: t, cell: 3.40); m.setCell(2, to: 3.81); return m }
        #expect(!rig.isActive(.cellOvervoltage))           // 3.795 V after correction
        var plain = Rig()
        plain.run(until: 10_000) { t in var m = sample(at: t, cell: 3.40); m.setCell(2, to: 3.81); return m }
        #expect(plain.isActive(.cellOvervoltage))
    }

    @Test func validationNamesTheBrokenCalibration() {
        var config = lfp16()
        config.calibration.currentGain = 1.3
        config.calibration.cellGain[4] = 0.9
        config.calibration.temperatureOffset[7] = -12
        let fields = config.validate().map(\.field)
        #expect(fields.count == 3)
        #expect(fields.contains(.currentGain))
        #expect(fields.contains(.cellVoltageGain(.cell5)))
        #expect(fields.contains(.thermistorOffset(.sensor8)))
        config = lfp16()
        config.calibration.cellOffset[0] = .nan
        #expect(config.validate().map(\.field) == [.cellVoltageOffset(.cell1)])
    }

    /// Both switches held open by the enable inputs; the sensor reads 0.3 A of offset.
    func openRig(storedOffset: Float = 0) -> Rig {
        var config = lfp16()
        config.inputs.chargeEnable = false
        config.inputs.dischargeEnable = false
        config.calibration.currentOffset = storedOffset
        return Rig(config)
    }

    @Test func learnsTheZeroAfterSettlingAndTwentySamples() {
        var rig = openRig()
        // First sample at 0 s opens the period; samples from 5 s count; the 20th is at 24 s.
        rig.run(until: 23_000, period: 1000) { sample(at: $0, current: 0.3) }
        #expect(!rig.events.contains { $0.kind == .currentZeroed })
        #expect(abs(rig.bms.power - 0.3 * 3.3 * 16) < 0.01)
        rig.run(until: 24_000, period: 1000) { sample(at: $0, current: 0.3) }
        let zeroed = rig.events.filter { $0.kind == .currentZeroed }
        #expect(zeroed.count == 1 && zeroed.first?.time == Timestamp(milliseconds: 24_000))
        #expect(abs((zeroed.first?.value ?? 0) - 0.3) < 1e-5)
        #expect(abs(rig.bms.power) < 1e-3)
        // Once per open period: more samples refine it without more events.
        rig.run(until: 60_000, period: 1000) { sample(at: $0, current: 0.31) }
        #expect(rig.events.filter { $0.kind == .currentZeroed }.count == 1)
        #expect(rig.bms.currentZero.correction > 0.3 && rig.bms.currentZero.correction < 0.31)
    }

    @Test func learnsOnTopOfTheStoredOffset() {
        var rig = openRig(storedOffset: 0.25)
        rig.run(until: 30_000, period: 1000) { sample(at: $0, current: 0.3) }
        #expect(abs(rig.bms.currentZero.correction - 0.05) < 1e-5)
        #expect(abs(rig.bms.power) < 1e-3)
    }

    @Test func aCurrentThatFlowsIsNotAnOffset() {
        // 2 A is the limit on the preset's 100 A board: 2.1 A with both switches open flows.
        var rig = openRig()
        rig.run(until: 60_000, period: 1000) { sample(at: $0, current: 2.1) }
        #expect(!rig.bms.currentZero.learned)
        // A switch read back closed: no learning either.
        var closed = openRig()
        closed.run(until: 60_000, period: 1000) { t in var m = sample(at: t, current: 0.3); m.dischargeSwitchReadback = true; return m }
        #expect(!closed.bms.currentZero.learned)
    }

    @Test func closedSwitchesRestartTheSettling() {
        // A normal pack closes its switches at the first step: nothing is learned.
        var rig = Rig()
        rig.run(until: 60_000, period: 1000) { sample(at: $0, current: 0.3) }
        #expect(!rig.bms.currentZero.learned)
    }
}

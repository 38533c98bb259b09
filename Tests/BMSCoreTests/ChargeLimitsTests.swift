import Testing
@testable import BMSCore

@Suite struct ChargeLimitsTests {
    /// LFP 16S 100 Ah behind 100 A: over-current 100 A, pre-alarm margin 10 % → 90 A.
    @Test func aHealthyPackGetsTheFullLimits() {
        var rig = Rig()
        rig.step(at: 0) { sample(at: $0, cell: 3.30) }
        let l = rig.bms.limits
        #expect(l.chargeCurrent == 90)
        #expect(l.dischargeCurrent == 90)
        #expect(abs(l.chargeVoltage - 3.55 * 16) < 1e-3)
        #expect(abs(l.dischargeVoltage - 2.80 * 16) < 1e-3)
        #expect(l.chargeReasons.isEmpty && l.dischargeReasons.isEmpty)
        #expect(!l.floating)
    }

    @Test func coldCellsDerateChargingLinearly() {
        var rig = Rig()
        // Charge window from 0 °C, band 2 × 5 K: 5 °C is half way.
        rig.step(at: 0) { t in var m = sample(at: t); m.temperatures[0] = 5; return m }
        #expect(abs(rig.bms.limits.chargeCurrent - 45) < 0.01)
        #expect(rig.bms.limits.chargeReasons == .temperature)
        #expect(rig.bms.limits.dischargeCurrent == 90)
    }

    /// The limits of one measurement with no SOC known (the SOC derating apart).
    func limits(_ m: Measurement, soc: Float? = nil) -> ChargeLimits {
        let config = lfp16()
        return ChargeLimits.compute(config: config, summary: MeasurementSummary(m, config: config),
                                    allowed: .both, full: false, packSOC: soc)
    }

    @Test func theHighestCellHoldsChargeBackBetweenTargetAndRunAway() {
        // 3.6125 V is half way from the 3.55 V target to the 3.675 V run-away level.
        var m = sample(at: 0, cell: 3.40)
        m.setCell(3, to: 3.6125)
        let l = limits(m)
        #expect(abs(l.chargeCurrent - 45) < 0.05)
        #expect(l.chargeReasons == .cellVoltage)
        // The charge voltage is held back by how far that cell stands above the average.
        let average = (15 * 3.40 + 3.6125) / Float(16)
        #expect(abs(l.chargeVoltage - 16 * (3.55 - (3.6125 - average))) < 1e-3)
    }

    @Test func theLowestCellDeratesDischargeToTheCutoff() {
        // Full above cutoff + 2 × 0.10 V = 3.00 V, zero at 2.80 V: 2.90 V is half way.
        var m = sample(at: 0, cell: 3.20)
        m.setCell(9, to: 2.90)
        let l = limits(m)
        #expect(abs(l.dischargeCurrent - 45) < 0.05)
        #expect(l.dischargeReasons == .cellVoltage)
    }

    @Test func socDeratesTowardFullAndEmpty() {
        let m = sample(at: 0, cell: 3.30)
        // Charge: 1 at 90 %, down to the tail current (5 A) at 100 %: 95 % is half way.
        #expect(abs(limits(m, soc: 0.95).chargeCurrent - 45) < 0.01)
        #expect(abs(limits(m, soc: 1.0).chargeCurrent - 5) < 0.01)
        // Discharge: 1 at 10 %, a fifth at 0 %.
        #expect(abs(limits(m, soc: 0).dischargeCurrent - 18) < 0.01)
        #expect(limits(m, soc: 0.5).dischargeCurrent == 90)
        #expect(limits(m, soc: 0.95).chargeReasons == .stateOfCharge)
    }

    @Test func theRealPackAtItsEndsIsDeratedByBothItsVoltageAndItsSOC() {
        var rig = Rig()
        rig.step(at: 0) { t in var m = sample(at: t, cell: 3.20); m.setCell(9, to: 2.90); return m }
        // The estimator reads that cell as nearly empty: SOC and voltage both hold back.
        #expect(rig.bms.limits.dischargeCurrent < 45)
        #expect(rig.bms.limits.dischargeReasons.contains(.cellVoltage))
        #expect(rig.bms.limits.dischargeReasons.contains(.stateOfCharge))
    }

    @Test func aBlockedDirectionGetsZeroButTheVoltageStays() {
        var rig = Rig()
        rig.run(until: 2000) { t in var m = sample(at: t); m.setCell(0, to: 3.85); return m }
        #expect(rig.isActive(.cellOvervoltage))
        #expect(rig.bms.limits.chargeCurrent == 0)
        #expect(rig.bms.limits.chargeReasons.contains(.blocked))
        #expect(rig.bms.limits.chargeVoltage > 0)                 // never 0 (Victron)
        #expect(rig.bms.limits.floating)                          // OV marks full: float
        #expect(abs(rig.bms.limits.chargeVoltage - 3.35 * 16) < 1e-3)
    }

    @Test func aSilentAFEZeroesBothCurrents() {
        var rig = Rig()
        let old = sample(at: 0)
        rig.now = 0
        rig.step(old)
        rig.now = 5000
        rig.step(old)
        #expect(rig.bms.limits.chargeCurrent == 0 && rig.bms.limits.dischargeCurrent == 0)
    }

    @Test func rampIsLinearAndClamped() {
        #expect(ChargeLimits.ramp(5, full: 10, zero: 0) == 0.5)
        #expect(ChargeLimits.ramp(-1, full: 10, zero: 0) == 0)
        #expect(ChargeLimits.ramp(11, full: 10, zero: 0) == 1)
        #expect(ChargeLimits.ramp(40, full: 35, zero: 45) == 0.5)   // falling edge
    }
}

import Testing
@testable import BMSCore

/// A synthetic cell for the filter: OCV from the preset curve, R0 and one RC pair.
struct SyntheticCell {
    var soc: Float
    var v1: Float = 0
    let curve: OCVCurve
    let capacity: Float
    let r0: Float
    let r1: Float
    let tau: Float

    mutating func step(current: Float, dt: Float) -> Float {
        soc += current * dt / (3600 * capacity)
        let a = SOCFilter.exp(-dt / tau)
        v1 = a * v1 + (1 - a) * r1 * current
        return curve.voltage(atSOC: soc) + current * r0 + v1
    }
}

/// Small deterministic noise (a linear congruential sequence; no Foundation).
struct Noise {
    var state: UInt32 = 12345
    mutating func next() -> Float {
        state = state &* 1_664_525 &+ 1_013_904_223
        return Float(Int(state >> 8)) / Float(1 << 24) * 2 - 1   // uniform −1…1
    }
}

@Suite struct SOCFilterTests {
    @Test func learnsAConstantCurrentSensorOffsetAtRest() {
        let curve = OCVCurve.preset(.nmc)!
        var cell = SyntheticCell(soc: 0.6, curve: curve, capacity: 100, r0: 0.001, r1: 0.001, tau: 60)
        var filter = SOCFilter(curve: curve, parameters: .defaults(.nmc, capacityAh: 100),
                               voltage: cell.step(current: 0, dt: 0), current: 0.5)
        // The pack rests; the sensor reads +0.5 A. Pure counting would gain 0.5 % per hour.
        for _ in 0..<(48 * 360) {
            let v = cell.step(current: 0, dt: 10)
            filter.update(current: 0.5, voltage: v, temperature: 25, dt: 10)
        }
        #expect(abs(filter.soc - 0.6) < 0.01)
        #expect(abs(filter.offset - 0.5) < 0.1)
        #expect(filter.covarianceIsHealthy)
    }

    @Test func flatPlateauVoltageNoiseBarelyMovesTheSOC() {
        let curve = OCVCurve.preset(.lfp)!
        var filter = SOCFilter(curve: curve, parameters: .defaults(.lfp, capacityAh: 100),
                               voltage: curve.voltage(atSOC: 0.55), current: 0)
        filter.recalibrate(to: 0.55, sigma: 0.01)
        var noise = Noise()
        // 6 hours at rest, with ±5 mV of voltage error on a 0.06 V/unit plateau: trusting it
        // would swing the SOC by ±8 %.
        for _ in 0..<(6 * 360) {
            filter.update(current: 0, voltage: curve.voltage(atSOC: 0.55) + 0.005 * noise.next(),
                          temperature: 25, dt: 10)
        }
        #expect(abs(filter.soc - 0.55) < 0.02)
    }

    @Test func aStaleStartConvergesWhereTheCurveIsSteep() {
        let curve = OCVCurve.preset(.nmc)!
        var cell = SyntheticCell(soc: 0.3, curve: curve, capacity: 50, r0: 0.002, r1: 0.002, tau: 60)
        var filter = SOCFilter(curve: curve, parameters: .defaults(.nmc, capacityAh: 50),
                               voltage: cell.step(current: 0, dt: 0), current: 0)
        // A stale stored SOC (65 %), honestly marked uncertain.
        filter.recalibrate(to: 0.65, sigma: 0.3)
        for k in 0..<(12 * 360) {
            let current: Float = k % 360 < 180 ? -10 : 10                      // an hourly cycle
            let v = cell.step(current: current, dt: 10)
            filter.update(current: current, voltage: v, temperature: 25, dt: 10)
        }
        #expect(abs(filter.soc - cell.soc) < 0.02)
    }

    /// Float numerics over 30 days of 1 s samples: the covariance must stay symmetric and
    /// positive definite, the estimate finite.
    @Test func covarianceStaysPositiveDefiniteOverThirtyDays() {
        let curve = OCVCurve.preset(.lfp)!
        var cell = SyntheticCell(soc: 0.5, curve: curve, capacity: 280, r0: 0.0003, r1: 0.0003, tau: 60)
        var filter = SOCFilter(curve: curve, parameters: .defaults(.lfp, capacityAh: 280),
                               voltage: cell.step(current: 0, dt: 0), current: 0)
        var noise = Noise()
        var healthy = true
        for k in 0..<(30 * 86_400) {
            // A daily cycle: charge by day, discharge by evening and night, noise on top.
            let hour = (k / 3600) % 24
            let current: Float = (8..<15).contains(hour) ? 12 * 17 / 7 : -12   // balanced day
            let v = cell.step(current: current, dt: 1)
            filter.update(current: current + 0.3 * noise.next(), voltage: v + 0.002 * noise.next(),
                          temperature: 25, dt: 1)
            if k % 3600 == 0 { healthy = healthy && filter.covarianceIsHealthy && filter.soc.isFinite }
        }
        #expect(healthy)
        #expect(filter.covarianceIsHealthy)
        #expect(abs(filter.soc - cell.soc) < 0.05)
    }

    @Test func recalibrationPinsTheSOC() {
        let curve = OCVCurve.preset(.nmc)!
        var filter = SOCFilter(curve: curve, parameters: .defaults(.nmc, capacityAh: 10),
                               voltage: 3.8, current: 0)
        filter.recalibrate(to: 1, sigma: 0.005)
        #expect(filter.soc == 1)
        #expect(abs(filter.socSigma - 0.005) < 1e-6)
        #expect(filter.covarianceIsHealthy)
    }

    @Test func expWithoutLibm() {
        // Reference values of e^x (to 8 significant digits).
        let cases: [(Float, Float)] = [(-20, 2.0611536e-9), (-3, 0.049787068), (-1, 0.36787944),
                                       (-0.1, 0.90483742), (0, 1), (0.5, 1.6487213), (3, 20.085537)]
        for (x, expected) in cases {
            #expect(abs(SOCFilter.exp(x) - expected) <= 1e-4 * expected, "exp(\(x))")
        }
    }
}

@Suite struct PackEstimatorTests {
    @Test func theBMSEstimatesEveryCellAndThePack() {
        var rig = Rig()
        #expect(rig.bms.packSOC == nil)
        rig.step(at: 0) { sample(at: $0, cell: 3.264) }          // LFP preset: 45 % at 3.264 V
        let first = rig.bms.packSOC
        #expect(first != nil)
        #expect(abs((rig.bms.estimator.cellSOC(0) ?? 0) - 0.45) < 0.01)
        // An hour at 50 A into 100 Ah: +50 %, with cells that follow the OCV curve plus the
        // overpotential of the filter's own first guess (R0 = R1 = 0.05 Ω·Ah / 100 Ah).
        let curve = OCVCurve.preset(.lfp)!
        rig.run(until: 3_600_000, period: 1000) { t in
            let overpotential: Float = t == 0 ? 0 : 50 * 0.0005 * (2 - SOCFilter.exp(-Float(t) / 60_000))
            return sample(at: t, cell: curve.voltage(atSOC: 0.45 + 0.5 * Float(t) / 3_600_000) + overpotential,
                          current: 50)
        }
        let soc = rig.bms.packSOC!
        #expect(abs(soc - 0.95) < 0.03, "\(soc)")
    }

    @Test func fullPinsTheHighestCellAndTheCutoffTheEmptyOne() {
        var rig = Rig()
        rig.run(until: 10_000) { sample(at: $0, cell: 3.30) }
        // The run-away level on cell 6 marks the pack full: that cell is at 100 %.
        rig.run(until: 15_000) { t in var m = sample(at: t, current: 40); m.setCell(6, to: 3.70); return m }
        #expect(rig.bms.fullDetector.isFull)
        #expect(abs((rig.bms.estimator.cellSOC(6) ?? 0) - 1) < 0.03)
        #expect(rig.bms.packSOC! > 0.97)
    }

    @Test func theDischargeCutoffPinsTheEmptyCell() {
        var rig = Rig()
        rig.run(until: 10_000) { sample(at: $0, cell: 3.2) }
        // The discharge cutoff on cell 2 at 2.79 V under −20 A: that cell is empty.
        rig.run(until: 30_000) { t in var m = sample(at: t, cell: 3.2, current: -20); m.setCell(2, to: 2.79); return m }
        #expect(rig.isActive(.dischargeCutoff))
        #expect((rig.bms.estimator.cellSOC(2) ?? 1) < 0.05)
        #expect(rig.bms.packSOC! < 0.05)
    }

    @Test func anOpenWireReadingIsCountedButNotBelieved() {
        var rig = Rig()
        rig.run(until: 10_000) { sample(at: $0, cell: 3.30) }
        let before = rig.bms.estimator.cellSOC(9)!
        rig.run(until: 600_000, period: 1000) { t in var m = sample(at: t, cell: 3.30); m.setCell(9, to: 0.0); return m }
        #expect(abs(rig.bms.estimator.cellSOC(9)! - before) < 0.01)
    }
}

@Suite struct PackEstimatorLifecycleTests {
    @Test func anotherPackRestartsTheEstimators() throws {
        var rig = Rig()
        rig.step(at: 0) { sample(at: $0, cell: 3.264) }
        #expect(rig.bms.packSOC != nil)
        var smaller = BMSConfig.preset(.lfp, cells: 8, capacityAh: 50)!
        smaller.inputs = rig.bms.config.inputs
        try rig.bms.apply(smaller, at: Timestamp(milliseconds: 100))
        #expect(rig.bms.packSOC == nil)
        // The same pack with another limit keeps its estimate.
        var rig2 = Rig()
        rig2.step(at: 0) { sample(at: $0, cell: 3.264) }
        var tweaked = lfp16()
        tweaked.current.chargeOvercurrent = 90
        try rig2.bms.apply(tweaked, at: Timestamp(milliseconds: 100))
        #expect(rig2.bms.packSOC != nil)
    }

    @Test func anOpenWireAtStartUpStartsThatCellFromTheOthers() {
        var rig = Rig()
        rig.step(at: 0) { t in var m = sample(at: t, cell: 3.264); m.setCell(4, to: 0); return m }
        let others = rig.bms.estimator.cellSOC(0)!
        #expect(abs(rig.bms.estimator.cellSOC(4)! - others) < 0.01)
    }
}

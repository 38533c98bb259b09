import Testing
@testable import BMSCore

@Suite struct CapacityEstimatorTests {
    @Test func twoPointsFiftyPercentApartGiveTheCapacity() {
        var c = CapacityEstimator(labelAh: 100, relativeSigma: 0.1)
        let sampled1 = c.anchor(soc: 0.9, sigma: 0.01, residualOffsetAh: 0)

        #expect(!sampled1)
        // A 90 Ah cell: 50 % of it is 45 Ah, taken out over 5 hours.
        for _ in 0..<(5 * 3600) { c.count(current: -9, dt: 1) }
        let sampled2 = c.anchor(soc: 0.4, sigma: 0.01, residualOffsetAh: 0)

        #expect(sampled2)
        #expect(c.samples == 1)
        // The sample (90 Ah ± 2.9 %) merged with the label (100 Ah ± 10 %).
        #expect(abs(c.capacityAh - 90.8) < 0.3, "\(c.capacityAh)")
        #expect(c.relativeSigma < 0.03)
        // Three more cycles bring it to within 1 %.
        for _ in 0..<3 {
            for _ in 0..<(5 * 3600) { c.count(current: 9, dt: 1) }
            c.anchor(soc: 0.9, sigma: 0.01, residualOffsetAh: 0)
            for _ in 0..<(5 * 3600) { c.count(current: -9, dt: 1) }
            c.anchor(soc: 0.4, sigma: 0.01, residualOffsetAh: 0)
        }
        #expect(c.samples == 7)
        #expect(abs(c.capacityAh - 90) < 0.9, "\(c.capacityAh)")
    }

    @Test func aSwingBelowTheMinimumGivesNoSample() {
        var c = CapacityEstimator(labelAh: 100, relativeSigma: 0.1)
        c.anchor(soc: 0.6, sigma: 0.01, residualOffsetAh: 0)
        for _ in 0..<3600 { c.count(current: -14.9, dt: 1) }
        let sampled = c.anchor(soc: 0.451, sigma: 0.006, residualOffsetAh: 0)
        #expect(!sampled)
        #expect(c.capacityAh == 100)
        // The first anchor stays (the second is not twice as sharp), so a further 10 % makes
        // a sample; a much sharper point would have replaced it.
        for _ in 0..<3600 { c.count(current: -10, dt: 1) }
        let sampledLater = c.anchor(soc: 0.35, sigma: 0.01, residualOffsetAh: 0)
        #expect(sampledLater)
        c.anchor(soc: 0.3, sigma: 0.004, residualOffsetAh: 0)
        #expect(c.anchorSOC == 0.3)
    }

    @Test func implausibleSamplesAreRefused() {
        // Twice the estimate: a wrong anchor, not a cell that doubled.
        var c = CapacityEstimator(labelAh: 100, relativeSigma: 0.1)
        c.anchor(soc: 0.2, sigma: 0.01, residualOffsetAh: 0)
        for _ in 0..<3600 { c.count(current: 100, dt: 1) }
        let sampled5 = c.anchor(soc: 0.7, sigma: 0.01, residualOffsetAh: 0)

        #expect(!sampled5)
        // Charge counted while the SOC fell: the signs disagree.
        var d = CapacityEstimator(labelAh: 100, relativeSigma: 0.1)
        d.anchor(soc: 0.8, sigma: 0.01, residualOffsetAh: 0)
        for _ in 0..<3600 { d.count(current: 40, dt: 1) }
        let sampled6 = d.anchor(soc: 0.4, sigma: 0.01, residualOffsetAh: 0)

        #expect(!sampled6)
        #expect(c.samples == 0 && d.samples == 0)
    }

    @Test func anAnchorOlderThanTwoDaysIsNotUsed() {
        var c = CapacityEstimator(labelAh: 100, relativeSigma: 0.1)
        c.anchor(soc: 0.9, sigma: 0.01, residualOffsetAh: 0)
        for _ in 0..<49 { c.count(current: -50.0 / 49, dt: 3600) }
        let sampled7 = c.anchor(soc: 0.4, sigma: 0.01, residualOffsetAh: 0)

        #expect(!sampled7)
        // That point became the new anchor: the next swing counts from it.
        for _ in 0..<10 { c.count(current: 5, dt: 3600) }
        let sampled8 = c.anchor(soc: 0.9, sigma: 0.01, residualOffsetAh: 0)

        #expect(sampled8)
        #expect(abs(c.capacityAh - 100) < 0.5)
    }

    @Test func aSensorOffsetLeftOverWeighsASampleLess() {
        func merged(residual: Float) -> Float {
            var c = CapacityEstimator(labelAh: 100, relativeSigma: 0.1)
            c.anchor(soc: 0.9, sigma: 0.01, residualOffsetAh: 0)
            for _ in 0..<20 { c.count(current: -2.25, dt: 3600) }
            c.anchor(soc: 0.4, sigma: 0.01, residualOffsetAh: residual)
            return c.relativeSigma
        }
        #expect(merged(residual: 0.5) > 2 * merged(residual: 0))
    }
}

@Suite struct CellEstimatorTests {
    /// A 90 Ah NMC cell labelled 100 Ah, cycled 80 % ↔ 35 % by day with rests between:
    /// the rests give points, the capacity follows, and the SOC stops drifting by 10 %.
    @Test func restsBetweenCyclesTeachTheCapacity() {
        let curve = OCVCurve.preset(.nmc)!
        var cell = SyntheticCell(soc: 0.8, curve: curve, capacity: 90, r0: 0.0008, r1: 0.0008, tau: 60)
        var estimator = CellEstimator(filter: SOCFilter(curve: curve, parameters: .defaults(.nmc, capacityAh: 100),
                                                        voltage: cell.step(current: 0, dt: 0), current: 0),
                                      learnsCapacity: true)
        var worst: Float = 0
        for day in 0..<6 {
            for (current, hours) in [(Float(0), 1), (-9, 4.5), (0, 1), (9, 4.5)] as [(Float, Double)] {
                for _ in 0..<Int(hours * 360) {
                    let v = cell.step(current: current, dt: 10)
                    estimator.update(current: current, voltage: v, temperature: 25, dt: 10)
                    if day >= 3 { worst = max(worst, abs(estimator.soc - cell.soc)) }
                }
            }
        }
        #expect(estimator.capacity.samples >= 6)
        #expect(abs(estimator.capacity.capacityAh - 90) / 90 < 0.03, "\(estimator.capacity.capacityAh)")
        #expect(abs(estimator.filter.parameters.capacityAh - estimator.capacity.capacityAh) < 1e-3)
        #expect(worst < 0.02, "\(worst)")
    }

    @Test func noPointOnTheLFPPlateauButOneAtItsKnee() {
        let curve = OCVCurve.preset(.lfp)!
        func restedTwoHours(at soc: Float) -> CellEstimator {
            var estimator = CellEstimator(filter: SOCFilter(curve: curve, parameters: .defaults(.lfp, capacityAh: 100),
                                                            voltage: curve.voltage(atSOC: soc), current: 0),
                                          learnsCapacity: true)
            for _ in 0..<720 { estimator.update(current: 0, voltage: curve.voltage(atSOC: soc), temperature: 25, dt: 10) }
            return estimator
        }
        #expect(!restedTwoHours(at: 0.5).capacity.hasAnchor)
        // At the top knee (97 %: 1.6 V per unit SOC) a rest names the SOC to 1 %.
        let knee = restedTwoHours(at: 0.97)
        #expect(knee.capacity.hasAnchor)
        #expect(abs(knee.capacity.anchorSOC - 0.97) < 0.005)
    }
}

@Suite struct OCVTableSettingTests {
    @Test func onlyTheCellsOwnTableTeachesTheCapacity() throws {
        // NMC at rest at 3.90 V (steep enough for a point) for an hour.
        func rested(withTable: Bool) -> CellEstimator {
            var config = BMSConfig.preset(.nmc, cells: 16, capacityAh: 100)!
            if withTable { config.setOCVTable(OCVCurve.preset(.nmc)!) }
            var rig = Rig(config)
            rig.run(until: 3_600_000, period: 1000) { sample(at: $0, cell: 3.90) }
            return rig.bms.estimator.cell(0)!
        }
        #expect(!rested(withTable: false).capacity.hasAnchor)
        #expect(rested(withTable: true).capacity.hasAnchor)
    }

    @Test func theTableRunsFromFullToEmptyAsTheReferenceFirmwareStoresIt() {
        var config = lfp16()
        #expect(!config.hasOCVTable && config.ocvCurve == nil)
        config.setOCVTable(OCVCurve.preset(.lfp)!)
        #expect(config.ocvPoints[0] == 3.392 && config.ocvPoints[20] == 2.833)
        #expect(config.ocvCurve == OCVCurve.preset(.lfp)!)
        #expect(config.validate().isEmpty)
        config.setOCVTable(nil)
        #expect(!config.hasOCVTable)
    }

    @Test func aBadTableNamesThePoint() {
        var config = lfp16()
        config.setOCVTable(OCVCurve.preset(.lfp)!)
        config.ocvPoints[7] = 3.5                 // above the 60 % point before it
        var rules = config.validate().map { ($0.rule, $0.field) }
        #expect(rules.count == 1)
        #expect(rules.first! == (.ocvTableRisesTowardEmpty, .ocvPoint(.soc65)))
        config.setOCVTable(OCVCurve(volts: InlineArray(repeating: 3.3)))
        rules = config.validate().map { ($0.rule, $0.field) }
        #expect(rules.count == 1 && rules.first! == (.ocvTableFlat, .ocvPoint(.soc100)))
        // A half-written table: the zero points are out of range, not "no table".
        config.setOCVTable(OCVCurve.preset(.lfp)!)
        config.ocvPoints[20] = 0
        rules = config.validate().map { ($0.rule, $0.field) }
        #expect(rules.count == 1 && rules.first! == (.outOfRange, .ocvPoint(.soc0)))
    }

    @Test func applyingATableRestartsTheEstimatorsOnIt() throws {
        var rig = Rig()
        rig.run(until: 2000, period: 1000) { sample(at: $0, cell: 3.265) }
        #expect(!rig.bms.estimator.curveIsCalibrated)
        var bad = rig.bms.config
        bad.setOCVTable(OCVCurve.preset(.lfp)!)
        bad.ocvPoints[3] = 9
        #expect(throws: ConfigError.self) { try rig.bms.apply(bad, at: Timestamp(milliseconds: 2100)) }
        #expect(rig.bms.packSOC != nil && !rig.bms.estimator.curveIsCalibrated)
        var good = rig.bms.config
        good.setOCVTable(OCVCurve.preset(.lfp)!)
        try rig.bms.apply(good, at: Timestamp(milliseconds: 2200))
        #expect(rig.bms.estimator.curveIsCalibrated)
        #expect(rig.bms.packSOC == nil)
        rig.run(until: 5000, period: 1000) { sample(at: $0, cell: 3.265) }
        #expect(rig.bms.packSOC != nil)
    }
}

@Suite struct PackHealthTests {
    @Test func integralOfTheCurve() {
        let curve = OCVCurve.preset(.nmc)!
        // Trapezoids of 1/1000 against the exact piecewise-linear integral.
        var sum: Float = 0
        for k in 0..<1000 {
            sum += (curve.voltage(atSOC: Float(k) / 1000) + curve.voltage(atSOC: Float(k + 1) / 1000)) / 2000
        }
        #expect(abs(curve.integral(from: 0, to: 1) - sum) < 1e-4)
        #expect(abs(curve.integral(from: 0.3, to: 0.3)) < 1e-6)
        #expect(abs(curve.integral(from: 0.5, to: 0.55) - 0.05 * (3.838 + 3.858) / 2) < 1e-5)
        #expect(curve.integral(from: 0.6, to: 0.4) < 0)
    }

    @Test func energyAndTimeToEmptyOfAnEvenPack() {
        var rig = Rig()
        rig.run(until: 5000, period: 1000) { sample(at: $0, cell: 3.264) }   // 45 % by the preset
        let e = rig.bms.energy!
        let curve = OCVCurve.preset(.lfp)!
        let soc = rig.bms.estimator.cellSOC(0)!
        #expect(abs(e.remainingAh - 100 * soc) < 0.01)
        #expect(abs(e.roomAh - 100 * (1 - soc)) < 0.01)
        #expect(abs(e.remainingWh - 16 * 100 * curve.integral(from: 0, to: soc)) < 1)
        // 45 Ah of LFP is about 16 × 45 × 3.2 V: near 2.3 kWh.
        #expect(e.remainingWh > 2000 && e.remainingWh < 2500)
        #expect(rig.bms.secondsToEmpty == nil)
        #expect(rig.bms.secondsToFull == nil)
        rig.run(until: 7000, period: 1000) { sample(at: $0, cell: 3.25, current: -20) }
        let hours = rig.bms.secondsToEmpty! / 3600
        let expected = rig.bms.energy!.remainingWh / (16 * 3.25 * 20)
        #expect(abs(hours - expected) < 0.01 && hours > 2)
    }

    @Test func theCellThatEmptiesFirstIsNamedWithItsCause() {
        var rig = Rig()
        // Cell 5 sits at 15 %, the others at 45 %: imbalance, not a weak cell.
        rig.run(until: 5000, period: 1000) { t in var m = sample(at: t, cell: 3.264); m.setCell(5, to: 3.190); return m }
        let report = rig.bms.weakCells!
        #expect(report.emptiesFirst == 5)
        #expect(report.emptiesFirstCauses == .imbalance)
        #expect(report.fillsFirst != 5)
        #expect(report.lowestCapacityRatio == 1)
    }

    @Test func stateOfHealthIsTheWeakestCellsCapacityOverTheLabel() {
        var rig = Rig()
        rig.run(until: 2000, period: 1000) { sample(at: $0, cell: 3.264) }
        #expect(rig.bms.stateOfHealth == 1)
        var snapshot = rig.bms.estimatorSnapshot!
        snapshot.cells[7].capacityAh = 88
        try! rig.bms.restoreEstimator(snapshot)
        #expect(rig.bms.stateOfHealth == nil)
        rig.run(until: 4000, period: 1000) { sample(at: $0, cell: 3.264) }
        #expect(abs(rig.bms.stateOfHealth! - 0.88) < 1e-6)
        #expect(rig.bms.weakCells!.lowestCapacity == 7)
        #expect(abs(rig.bms.weakCells!.lowestCapacityRatio - 0.88) < 1e-4)
    }

    @Test func aCellsResistanceLowersTheCurrentLimits() {
        var rig = Rig()
        rig.run(until: 5000, period: 1000) { sample(at: $0, cell: 3.264) }
        #expect(!rig.bms.limits.dischargeReasons.contains(.resistance))
        // Steps of ±60 A with 30 mV per 60 A: 0.5 mΩ learned, R0 + R1 = 1 mΩ; from 3.264 V
        // to the 2.8 V cutoff is then 464 A, above the 95 A limit: no derating.
        var t: UInt32 = 6000
        for k in 0..<8 {
            let i: Float = k % 2 == 0 ? -60 : 0
            rig.run(until: t + 2000, period: 1000) { sample(at: $0, cell: 3.264 + i * 0.0005, current: i) }
            t += 3000
        }
        #expect(rig.bms.estimator.filter(0)!.r0Samples >= 3)
        #expect(!rig.bms.limits.dischargeReasons.contains(.resistance))
        // A worn pack: 40 A steps of 200 mV, 5 mΩ learned, R0 + R1 = 10 mΩ:
        // (OCV ≈ 3.26 − 2.8) / 10 mΩ ≈ 46 A.
        var worn = Rig()
        worn.run(until: 5000, period: 1000) { sample(at: $0, cell: 3.264) }
        t = 6000
        for k in 0..<8 {
            let i: Float = k % 2 == 0 ? -40 : 0
            worn.run(until: t + 2000, period: 1000) { sample(at: $0, cell: 3.3 + i * 0.005, current: i) }
            t += 3000
        }
        let limit = worn.bms.limits.dischargeCurrent
        #expect(worn.bms.limits.dischargeReasons.contains(.resistance))
        #expect(limit > 35 && limit < 60, "\(limit)")
    }
}

@Suite struct EstimatorSnapshotTests {
    func sampleSnapshot() -> EstimatorSnapshot {
        var s = EstimatorSnapshot(cellCount: 16)
        for i in 0..<16 {
            s.cells[i] = .init(soc: 0.5 + Float(i) / 100, socSigma: 0.02, offset: -0.05, capacityAh: 98 - Float(i),
                               capacitySigma: 0.03, r0: 0.0006, capacitySamples: UInt16(i), r0Samples: 40)
        }
        return s
    }

    @Test func roundTrip() throws {
        let s = sampleSnapshot()
        let bytes = s.encoded()
        let back = try EstimatorSnapshot(bytes: bytes.span)
        #expect(back == s)
        #expect(bytes.count == EstimatorSnapshot.byteCount)
    }

    @Test func everyDamageIsNamed() {
        let good = sampleSnapshot().encoded()
        func decode(_ edit: (inout [UInt8]) -> Void, fixChecksum: Bool = false) -> EstimatorSnapshotError? {
            var bytes = (0..<good.count).map { good[$0] }
            edit(&bytes)
            if fixChecksum && bytes.count == 456 {
                let crc = EstimatorSnapshot.crc32(bytes.span.extracting(0..<452))
                for k in 0..<4 { bytes[452 + k] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(k))) }
            }
            do throws(EstimatorSnapshotError) {
                _ = try EstimatorSnapshot(bytes: bytes.span)
                return nil
            } catch { return error }
        }
        let short = decode { (b: inout [UInt8]) in b.removeLast() }
        let magic = decode { (b: inout [UInt8]) in b[0] = 0 }
        let version = decode { (b: inout [UInt8]) in b[2] = 9 }
        let flipped = decode { (b: inout [UInt8]) in b[100] ^= 0x10 }
        let count = decode({ (b: inout [UInt8]) in b[3] = 17 }, fixChecksum: true)
        // Cell 2's SOC (bytes 4 + 2·28 …) set to 1.5.
        let soc = decode({ (b: inout [UInt8]) in
            let bits = Float(1.5).bitPattern
            for k in 0..<4 { b[60 + k] = UInt8(truncatingIfNeeded: bits >> (8 * UInt32(k))) }
        }, fixChecksum: true)
        #expect(short == .wrongLength(455))
        #expect(magic == .notASnapshot)
        #expect(version == .unsupportedVersion(9))
        #expect(flipped == .checksumMismatch)
        #expect(count == .cellCount(17))
        #expect(soc == .valueOutOfRange(cell: 2, .soc))
    }

    @Test func theKnownCRC() {
        // CRC-32 check value of "123456789".
        #expect(EstimatorSnapshot.crc32(Array("123456789".utf8).span) == 0xCBF4_3926)
    }

    @Test func anLFPPlateauStartsFromTheStoredSOCAndASteepCurveFromTheVoltage() throws {
        // LFP at 3.265 V: the plateau from 45 % to 60 % reads the same; the store says 58 %.
        var rig = Rig()
        rig.run(until: 2000, period: 1000) { sample(at: $0, cell: 3.265) }
        var stored = rig.bms.estimatorSnapshot!
        for i in 0..<16 { stored.cells[i].soc = 0.58; stored.cells[i].socSigma = 0.01 }
        var restarted = Rig()
        try restarted.bms.restoreEstimator(stored)
        restarted.run(until: 2000, period: 1000) { sample(at: $0, cell: 3.265) }
        #expect(abs(restarted.bms.estimator.cellSOC(3)! - 0.58) < 0.01)
        // NMC at 3.90 V is about 62 %; a stored 20 % is three σ off: the cells changed while
        // the BMS was off, and the voltage wins.
        let nmc = BMSConfig.preset(.nmc, cells: 16, capacityAh: 100)!
        var a = Rig(nmc)
        a.run(until: 2000, period: 1000) { sample(at: $0, cell: 3.90) }
        var wrong = a.bms.estimatorSnapshot!
        for i in 0..<16 { wrong.cells[i].soc = 0.2; wrong.cells[i].socSigma = 0.02 }
        var b = Rig(nmc)
        try b.bms.restoreEstimator(wrong)
        b.run(until: 2000, period: 1000) { sample(at: $0, cell: 3.90) }
        #expect(abs(b.bms.estimator.cellSOC(0)! - a.bms.estimator.cellSOC(0)!) < 0.01)
    }

    @Test func learnedValuesSurviveTheRestart() throws {
        var rig = Rig()
        rig.run(until: 2000, period: 1000) { sample(at: $0, cell: 3.265) }
        var stored = rig.bms.estimatorSnapshot!
        stored.cells[4] = .init(soc: 0.5, socSigma: 0.02, offset: 0.3, capacityAh: 91, capacitySigma: 0.02,
                                r0: 0.0007, capacitySamples: 5, r0Samples: 12)
        var restarted = Rig()
        try restarted.bms.restoreEstimator(stored)
        restarted.run(until: 2000, period: 1000) { sample(at: $0, cell: 3.265) }
        let again = restarted.bms.estimatorSnapshot!
        #expect(again.cells[4].capacityAh == 91)
        #expect(again.cells[4].capacitySamples == 5)
        #expect(again.cells[4].r0 == 0.0007 && again.cells[4].r0Samples == 12)
        #expect(abs(again.cells[4].offset - 0.3) < 0.01)
    }

    @Test func aRecordOfAnotherPackIsRefusedAndChangesNothing() throws {
        var rig = Rig()
        rig.run(until: 2000, period: 1000) { sample(at: $0, cell: 3.265) }
        let before = rig.bms.estimatorSnapshot!
        var eight = EstimatorSnapshot(cellCount: 8)
        for i in 0..<8 { eight.cells[i] = before.cells[i] }
        #expect(throws: EstimatorSnapshotError.doesNotFitPack) { try rig.bms.restoreEstimator(eight) }
        var tiny = before
        tiny.cells[0].capacityAh = 10          // a 10 Ah record on a 100 Ah pack
        #expect(throws: EstimatorSnapshotError.doesNotFitPack) { try rig.bms.restoreEstimator(tiny) }
        #expect(rig.bms.estimatorSnapshot == before)
    }
}

@Suite struct FloatMathTests {
    @Test func squareRootWithoutLibmMatchesTheHardwareOne() {
        var x: Float = 1e-12
        while x < 1e12 {
            let r = FloatMath.squareRoot(x)
            #expect(abs(r - x.squareRoot()) <= 2 * x.squareRoot().ulp, "√\(x) = \(r)")
            x *= 1.37
        }
        #expect(FloatMath.squareRoot(0) == 0)
        #expect(FloatMath.squareRoot(-4) == 0)
        #expect(FloatMath.squareRoot(.infinity) == .infinity)
    }
}

@Suite struct CellModelSettingTests {
    /// A cell with a strong slow overpotential (R2 = 3 R0, τ2 300 s) charged at C/5 for
    /// three hours: told its circuit (as `flexbms calibrate model` measures it), the filter
    /// follows it closer than with its defaults, which must read part of that overpotential
    /// as charge.
    @Test func theMeasuredCircuitBeatsTheDefaults() {
        let curve = OCVCurve.preset(.nmc)!
        func worstError(_ model: CellModelConfig) -> Float {
            var config = BMSConfig.preset(.nmc, cells: 4, capacityAh: 100)!
            config.cellModel = model
            var soc: Float = 0.3, v1: Float = 0, v2: Float = 0
            let r0: Float = 0.001, r1: Float = 0.0005, r2: Float = 0.003
            func voltage(_ i: Float) -> Float { curve.voltage(atSOC: soc) + i * r0 + v1 + v2 }
            var filter = SOCFilter(curve: curve, parameters: CellModelParameters(config), voltage: voltage(0), current: 0)
            var worst: Float = 0
            for k in 0..<(4 * 3600) {
                let i: Float = k < 3 * 3600 ? 20 : 0
                soc += i / 3600 / 100
                v1 = SOCFilter.exp(-1 / 20) * v1 + (1 - SOCFilter.exp(-1 / 20)) * r1 * i
                v2 = SOCFilter.exp(-1 / 300) * v2 + (1 - SOCFilter.exp(-1 / 300)) * r2 * i
                filter.update(current: i, voltage: voltage(i), temperature: 25, dt: 1)
                worst = max(worst, abs(filter.soc - soc))
            }
            #expect(filter.covarianceIsHealthy)
            return worst
        }
        var measured = CellModelConfig()
        measured.r0 = 1; measured.r1 = 0.5; measured.tau1 = 20; measured.r2 = 3; measured.tau2 = 300
        let withModel = worstError(measured), withDefaults = worstError(CellModelConfig())
        #expect(withModel < 0.01, "\(withModel)")
        #expect(withModel < withDefaults / 2, "model \(withModel), defaults \(withDefaults)")
    }

    @Test func theCircuitSettingsAreChecked() {
        var config = lfp16()
        config.cellModel.r1 = 0.5                      // relative to an R0 not given
        config.cellModel.tau1 = 900                    // beyond 600 s, and above τ2's default
        let rules = config.validate().map { ($0.rule, $0.field) }
        #expect(rules.contains { $0 == (.needsCellR0, .cellR1) })
        #expect(rules.contains { $0 == (.outOfRange, .cellTau1) })
        #expect(rules.contains { $0 == (.mustBeBelow, .cellTau1) })
        config.cellModel = CellModelConfig()
        config.cellModel.r0 = 0.6
        config.cellModel.tau2 = 1200
        #expect(config.validate().isEmpty)
        let p = CellModelParameters(config)
        #expect(p.r0 == 0.0006 && p.slowTau == 1200 && p.polarisationRatio == 1 && p.slowRatio == 0)
    }
}

@Suite struct ConfiguredResistanceTests {
    /// A configured R0 counts as known at once: 10 mΩ (R1 = R0) on an LFP cell at 3.264 V
    /// allows (3.264 − 2.8) / 20 mΩ ≈ 23 A of discharge, without a single current step.
    @Test func aConfiguredR0DeratesTheLimitsWithoutSteps() {
        var config = lfp16()
        config.cellModel.r0 = 10
        var rig = Rig(config)
        rig.run(until: 5000, period: 1000) { sample(at: $0, cell: 3.264) }
        #expect(rig.bms.estimator.filter(0)!.r0Samples == 0)
        #expect(rig.bms.limits.dischargeReasons.contains(.resistance))
        let limit = rig.bms.limits.dischargeCurrent
        #expect(limit > 20 && limit < 26, "\(limit)")
    }
}

/// The state of charge of every cell and of the pack, from the measurements the protection
/// already has: one `SOCFilter` per series group, run in the BMS's slow (1 s) task.
///
/// The pack SOC is what a user expects from a battery: 100 % when the first cell is full and
/// 0 % when the first cell is empty — the remaining charge of the cell that will run out
/// first, over that plus the room left in the cell that will fill first.
public struct PackEstimator: Sendable {
    /// One estimator per cell; meaningful once `lastRun` is set (stored without optionals:
    /// optional-chaining into an array element copies the whole estimator in and out).
    var cells: InlineArray<16, CellEstimator>
    /// When the estimators last ran, and the measurement time they ran on.
    var lastRun: Timestamp?
    /// A stored state to take back at the next start (see `restore(_:)`).
    var pending: EstimatorSnapshot?
    /// Pack SOC and the resistance limits as of the last run or pin (they change only then,
    /// and the control step reads them at every cycle); see `refresh`.
    /// The pack SOC (0…1), `nil` before the first measurement.
    public private(set) var packSOC: Float?
    /// The currents the cells' resistance allows, `nil` before any R0 is learned.
    public private(set) var resistanceLimits: (charge: Float, discharge: Float)?
    /// The pack's open-circuit voltage (the cells' OCV at their SOC, summed), V, and its
    /// internal resistance over tens of seconds (R0 at the present temperature plus the fast
    /// polarisation, summed; the initial guess until learned or configured), Ω. What another
    /// pack's BMS needs to predict how a current divides between packs in parallel.
    public private(set) var packOCV: Float?
    public private(set) var packResistance: Float?
    /// The OCV curve the filters use, and whether it is the cells' own table (`sOcvPoints_V`)
    /// rather than a chemistry's preset: only then do rests teach the capacity.
    public private(set) var curve: OCVCurve
    public private(set) var curveIsCalibrated = false
    /// Seconds between two runs (the firmware's estimation task period).
    public var period: UInt32 = 1000

    /// Estimators for `config`'s pack, on its OCV table or else its chemistry's curve.
    public init(config: BMSConfig) {
        curve = PackEstimator.curve(for: config)
        curveIsCalibrated = config.hasOCVTable
        let placeholder = SOCFilter(curve: curve, parameters: .defaults(.custom, capacityAh: 1),
                                    voltage: curve.voltage(atSOC: 0.5), current: 0)
        // Built in a loop (see `Protection.init`): sixteen copies unrolled cost kilobytes.
        cells = InlineArray { _ in CellEstimator(filter: placeholder, learnsCapacity: false) }
    }

    /// The curve for a configuration: its OCV table, else the chemistry's preset, or for
    /// `custom` a straight line from the discharge cutoff (0 %) to the charge target (100 %),
    /// as the reference firmware falls back to.
    public static func curve(for config: BMSConfig) -> OCVCurve {
        if let table = config.ocvCurve { return table }
        if let preset = OCVCurve.preset(config.pack.chemistry) { return preset }
        let low = config.cellVoltage.dischargeCutoff, high = config.cellVoltage.chargeTarget
        var volts = InlineArray<21, Float>(repeating: 0)
        for i in 0...20 { volts[i] = low + (high - low) * Float(i) / 20 }
        return OCVCurve(volts: volts)
    }

    /// Whether the estimators have started (they do at the first plausible measurement).
    public var isRunning: Bool { lastRun != nil }

    /// SOC of cell `index` (0-based), or `nil` before the first measurement.
    public func cellSOC(_ index: Int) -> Float? { lastRun == nil ? nil : cells[index].soc }

    /// The SOC filter of cell `index`, for diagnostics (offset, learned R0, uncertainty).
    public func filter(_ index: Int) -> SOCFilter? { lastRun == nil ? nil : cells[index].filter }

    /// Everything estimated about cell `index`, or `nil` before the first measurement.
    public func cell(_ index: Int) -> CellEstimator? { lastRun == nil ? nil : cells[index] }

    /// Charge and energy left to empty and to full, or `nil` before the first measurement.
    /// The pack gives charge until its first cell is empty; each cell gives its share of the
    /// energy over the SOC span that charge takes out of it (∫ OCV dSOC × capacity), so the
    /// figures are at the cells' open-circuit voltage: a heavy load gets less by its I²R.
    public func energy(cells count: Int) -> PackEnergy? {
        guard lastRun != nil, count > 0 else { return nil }
        var remaining = Float.infinity, room = Float.infinity
        for i in 0..<count {
            let c = cells[i]
            let q = c.filter.parameters.capacityAh
            let s = min(max(c.soc, 0), 1)
            remaining = min(remaining, s * q)
            room = min(room, (1 - s) * q)
        }
        var remainingWh: Float = 0, roomWh: Float = 0
        for i in 0..<count {
            let c = cells[i]
            let q = c.filter.parameters.capacityAh
            let s = min(max(c.soc, 0), 1)
            remainingWh += q * curve.integral(from: s - remaining / q, to: s)
            roomWh += q * curve.integral(from: s, to: s + room / q)
        }
        return PackEnergy(remainingAh: remaining, roomAh: room, remainingWh: remainingWh, roomWh: roomWh)
    }

    /// The cells that limit the pack and why, or `nil` before the first measurement.
    public func weakCells(cells count: Int) -> WeakCellReport? {
        guard lastRun != nil, count > 0 else { return nil }
        var capacities = InlineArray<16, Float>(repeating: 0)
        var resistances = InlineArray<16, Float>(repeating: 0)
        var socs = InlineArray<16, Float>(repeating: 0)
        var report = WeakCellReport()
        var leastRemaining = Float.infinity, leastRoom = Float.infinity
        for i in 0..<count {
            let c = cells[i]
            let q = c.filter.parameters.capacityAh
            capacities[i] = q
            resistances[i] = c.filter.r0
            socs[i] = c.soc
            if c.soc * q < leastRemaining { leastRemaining = c.soc * q; report.emptiesFirst = UInt8(i) }
            if (1 - c.soc) * q < leastRoom { leastRoom = (1 - c.soc) * q; report.fillsFirst = UInt8(i) }
            if q < capacities[Int(report.lowestCapacity)] { report.lowestCapacity = UInt8(i) }
            if resistances[i] > resistances[Int(report.highestResistance)] { report.highestResistance = UInt8(i) }
        }
        let medianCapacity = PackEstimator.median(capacities, count)
        let medianResistance = PackEstimator.median(resistances, count)
        let medianSOC = PackEstimator.median(socs, count)
        report.lowestCapacityRatio = capacities[Int(report.lowestCapacity)] / medianCapacity
        report.highestResistanceRatio = medianResistance > 0
            ? resistances[Int(report.highestResistance)] / medianResistance : 1
        func causes(_ i: Int, lowSOC: Bool) -> WeakCellCauses {
            var found: WeakCellCauses = []
            let c = cells[i]
            if c.capacity.samples > 0 && capacities[i] <= 0.97 * medianCapacity { found.insert(.lowCapacity) }
            if c.filter.resistanceIsKnown(steps: 1) && medianResistance > 0 && resistances[i] >= 1.3 * medianResistance {
                found.insert(.highResistance)
            }
            if lowSOC ? socs[i] < medianSOC - 0.02 : socs[i] > medianSOC + 0.02 { found.insert(.imbalance) }
            return found
        }
        report.emptiesFirstCauses = causes(Int(report.emptiesFirst), lowSOC: true)
        report.fillsFirstCauses = causes(Int(report.fillsFirst), lowSOC: false)
        return report
    }

    /// The state to store for the next start, or `nil` before the first measurement.
    public func snapshot(cells count: Int) -> EstimatorSnapshot? {
        guard lastRun != nil else { return nil }
        var snapshot = EstimatorSnapshot(cellCount: count)
        for i in 0..<count {
            let c = cells[i]
            snapshot.cells[i] = EstimatorSnapshot.Cell(
                soc: min(max(c.soc, 0), 1), socSigma: min(max(c.filter.socSigma, 1e-4), 1),
                offset: c.filter.offset, capacityAh: c.capacity.capacityAh,
                capacitySigma: min(max(c.capacity.relativeSigma, 1e-4), 1),
                r0: c.filter.learnedR0,
                capacitySamples: UInt16(min(c.capacity.samples, Int(UInt16.max))),
                r0Samples: UInt16(min(c.filter.r0Samples, Int(UInt16.max))))
        }
        return snapshot
    }

    /// Takes `snapshot` back at the next measurement: the estimators restart from it, each
    /// stored SOC merged with what that measurement's voltage says (see `SOCFilter.restore`).
    /// Throws `.doesNotFitPack` for a record of another cell count or with capacities beyond
    /// half or twice `labelAh`; the running state is then kept.
    public mutating func restore(_ snapshot: EstimatorSnapshot, cells count: Int,
                                 labelAh: Float) throws(EstimatorSnapshotError) {
        guard snapshot.cellCount == count else { throw .doesNotFitPack }
        for i in 0..<count {
            let q = snapshot.cells[i].capacityAh
            guard q >= 0.5 * labelAh && q <= 2 * labelAh else { throw .doesNotFitPack }
        }
        pending = snapshot
        lastRun = nil
        packSOC = nil
        resistanceLimits = nil
        packOCV = nil
        packResistance = nil
    }

    static func median(_ values: InlineArray<16, Float>, _ count: Int) -> Float {
        var sorted = values
        for i in 1..<count {
            let v = sorted[i]
            var j = i
            while j > 0 && sorted[j - 1] > v { sorted[j] = sorted[j - 1]; j -= 1 }
            sorted[j] = v
        }
        return count % 2 == 1 ? sorted[count / 2] : (sorted[count / 2 - 1] + sorted[count / 2]) / 2
    }

    /// Recomputes the pack SOC and the resistance limits after a run or a pin (written out
    /// here rather than in non-mutating helpers: calling one from this mutating context
    /// copied the 5 kB of cell estimators at every run).
    ///
    /// Pack SOC: the charge left in the cell that empties first over that plus the room left
    /// in the cell that fills first, each cell with its own (learned) capacity.
    ///
    /// Resistance limits: the largest charge and discharge currents that keep every cell's
    /// terminal voltage between the discharge cutoff and the charge target, at R0 for the
    /// present temperature plus the fast polarisation (the resistance a load sees over tens
    /// of seconds), counting only cells whose R0 is configured (`sCellR0_mOhm`) or was learned from
    /// at least three current steps; `nil` while none is.
    mutating func refresh(config: BMSConfig) {
        let count = Int(config.pack.seriesCells)
        guard lastRun != nil, count > 0 else {
            packSOC = nil
            resistanceLimits = nil
            packOCV = nil
            packResistance = nil
            return
        }
        let low = config.cellVoltage.dischargeCutoff, high = config.cellVoltage.chargeTarget
        var remaining = Float.infinity, room = Float.infinity
        var charge = Float.infinity, discharge = Float.infinity
        var learned = false
        var ocvSum: Float = 0, resistanceSum: Float = 0
        for i in 0..<count {
            let q = cells[i].filter.parameters.capacityAh
            let s = min(max(cells[i].soc, 0), 1)
            remaining = min(remaining, s * q)
            room = min(room, (1 - s) * q)
            let r = cells[i].filter.presentR0 * (1 + cells[i].filter.parameters.polarisationRatio)
            let ocv = curve.voltage(atSOC: s)
            ocvSum += ocv
            resistanceSum += r
            guard cells[i].filter.resistanceIsKnown() else { continue }
            learned = true
            charge = min(charge, max(high - ocv, 0) / r)
            discharge = min(discharge, max(ocv - low, 0) / r)
        }
        let total = remaining + room
        packSOC = total > 0 ? remaining / total : 0
        resistanceLimits = learned ? (charge, discharge) : nil
        packOCV = ocvSum
        packResistance = resistanceSum
    }

    /// Runs the filters on a fresh measurement when the period has passed since the last run;
    /// returns whether they ran.
    @discardableResult
    mutating func update(_ m: Measurement, _ summary: MeasurementSummary, config: BMSConfig,
                         cellCurrents: InlineArray<16, Float> = InlineArray(repeating: 0)) -> Bool {
        let count = Int(config.pack.seriesCells)
        // Cell temperature for the resistance: the middle of the cell sensors' range.
        var temperature: Float = 25
        if let lo = summary.minCellTemperature, let hi = summary.maxCellTemperature {
            temperature = (lo + hi) / 2
        }
        guard let last = lastRun else {
            let parameters = CellModelParameters(config)
            guard summary.hasPlausibleCell else { return false }
            for i in 0..<count {
                // A cell whose reading is implausible (open wire) starts from the middle of
                // the plausible ones, with the wide uncertainty the curve gives there.
                let v = m.cellVoltages[i]
                let plausible = v >= config.plausibility.cellSenseMinimum && v <= config.plausibility.cellSenseMaximum
                cells[i] = CellEstimator(filter: SOCFilter(curve: curve, parameters: parameters,
                                                           voltage: plausible ? v : (summary.minCell + summary.maxCell) / 2,
                                                           current: m.current),
                                         learnsCapacity: curveIsCalibrated)
                if let stored = pending { cells[i].restore(stored.cells[i]) }
            }
            pending = nil
            lastRun = m.timestamp
            return true
        }
        let elapsed = m.timestamp.milliseconds(since: last)
        guard elapsed >= period, elapsed < 0x8000_0000 else { return false }
        let dt = Float(Int(elapsed)) / 1000
        for i in 0..<count {
            // A reading outside the sense range (open wire) says nothing about the cell:
            // count the charge, skip the voltage.
            let v = m.cellVoltages[i]
            let plausible = v >= config.plausibility.cellSenseMinimum && v <= config.plausibility.cellSenseMaximum
            // Balancing moves charge the current sensor does not see: a bleed resistor's
            // current out of the cell, or an active board's transfer.
            cells[i].update(current: m.current + cellCurrents[i], voltage: v, temperature: temperature, dt: dt,
                            voltageValid: plausible)
        }
        lastRun = m.timestamp
        return true
    }

    /// Full: the highest cell is at its end (CV tail or run-away level).
    mutating func markFull(cell index: Int) {
        guard lastRun != nil else { return }
        cells[index].pin(soc: 1, sigma: 0.02)
    }

    /// The discharge cutoff tripped on `cell` with its voltage `volts` under `current`.
    mutating func markEmpty(cell index: Int, volts: Float, current: Float) {
        guard lastRun != nil else { return }
        let resting = volts - current * cells[index].filter.presentR0
        cells[index].pin(soc: curve.soc(atVoltage: resting), sigma: 0.03)
    }
}

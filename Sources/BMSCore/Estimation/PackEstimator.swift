/// The state of charge of every cell and of the pack, from the measurements the protection
/// already has: one `SOCFilter` per series group, run in the BMS's slow (1 s) task.
///
/// The pack SOC is what a user expects from a battery: 100 % when the first cell is full and
/// 0 % when the first cell is empty — the remaining charge of the cell that will run out
/// first, over that plus the room left in the cell that will fill first.
public struct PackEstimator: Sendable {
    /// One filter per cell; meaningful once `lastRun` is set (stored without optionals:
    /// optional-chaining into an array element copies the whole filter in and out).
    var filters: InlineArray<16, SOCFilter>
    /// When the estimators last ran, and the measurement time they ran on.
    var lastRun: Timestamp?
    /// The OCV curve the filters use.
    public private(set) var curve: OCVCurve
    /// Seconds between two runs (the firmware's estimation task period).
    public var period: UInt32 = 1000

    public init(curve: OCVCurve) {
        self.curve = curve
        let placeholder = SOCFilter(curve: curve, parameters: .defaults(.custom, capacityAh: 1),
                                    voltage: curve.voltage(atSOC: 0.5), current: 0)
        filters = InlineArray(repeating: placeholder)
    }

    /// The curve for a configuration: the chemistry's preset, or for `custom` a straight line
    /// from the discharge cutoff (0 %) to the charge target (100 %), as the reference
    /// firmware falls back to.
    public static func curve(for config: BMSConfig) -> OCVCurve {
        if let preset = OCVCurve.preset(config.pack.chemistry) { return preset }
        let low = config.cellVoltage.dischargeCutoff, high = config.cellVoltage.chargeTarget
        var volts = InlineArray<21, Float>(repeating: 0)
        for i in 0...20 { volts[i] = low + (high - low) * Float(i) / 20 }
        return OCVCurve(volts: volts)
    }

    /// SOC of cell `index` (0-based), or `nil` before the first measurement.
    public func cellSOC(_ index: Int) -> Float? { lastRun == nil ? nil : filters[index].soc }

    /// The filter of cell `index`, for diagnostics (offset, learned R0, uncertainty).
    public func filter(_ index: Int) -> SOCFilter? { lastRun == nil ? nil : filters[index] }

    /// The pack SOC (0…1), or `nil` before the first measurement.
    public func packSOC(cells: Int, capacityAh: Float) -> Float? {
        guard lastRun != nil else { return nil }
        var remaining = Float.infinity, room = Float.infinity
        for i in 0..<cells {
            let s = min(max(filters[i].soc, 0), 1)
            remaining = min(remaining, s * capacityAh)
            room = min(room, (1 - s) * capacityAh)
        }
        return remaining + room > 0 ? remaining / (remaining + room) : 0
    }

    /// Runs the filters on a fresh measurement when the period has passed since the last run.
    mutating func update(_ m: Measurement, _ summary: MeasurementSummary, config: BMSConfig) {
        let cells = Int(config.pack.seriesCells)
        // Cell temperature for the resistance: the middle of the cell sensors' range.
        var temperature: Float = 25
        if let lo = summary.minCellTemperature, let hi = summary.maxCellTemperature {
            temperature = (lo + hi) / 2
        }
        guard let last = lastRun else {
            let parameters = CellModelParameters.defaults(config.pack.chemistry,
                                                          capacityAh: config.pack.capacityAh)
            guard summary.hasPlausibleCell else { return }
            for i in 0..<cells {
                // A cell whose reading is implausible (open wire) starts from the middle of
                // the plausible ones, with the wide uncertainty the curve gives there.
                let v = m.cellVoltages[i]
                let plausible = v >= config.plausibility.cellSenseMinimum && v <= config.plausibility.cellSenseMaximum
                filters[i] = SOCFilter(curve: curve, parameters: parameters,
                                       voltage: plausible ? v : (summary.minCell + summary.maxCell) / 2,
                                       current: m.current)
            }
            lastRun = m.timestamp
            return
        }
        let elapsed = m.timestamp.milliseconds(since: last)
        guard elapsed >= period, elapsed < 0x8000_0000 else { return }
        let dt = Float(Int(elapsed)) / 1000
        for i in 0..<cells {
            // A reading outside the sense range (open wire) says nothing about the cell:
            // count the charge, skip the voltage.
            let v = m.cellVoltages[i]
            let plausible = v >= config.plausibility.cellSenseMinimum && v <= config.plausibility.cellSenseMaximum
            filters[i].update(current: m.current, voltage: v, temperature: temperature, dt: dt,
                              voltageValid: plausible)
        }
        lastRun = m.timestamp
    }

    /// Full: the highest cell is at its end (CV tail or run-away level).
    mutating func markFull(cell index: Int) {
        guard lastRun != nil else { return }
        filters[index].recalibrate(to: 1, sigma: 0.02)
    }

    /// The discharge cutoff tripped on `cell` with its voltage `volts` under `current`.
    mutating func markEmpty(cell index: Int, volts: Float, current: Float) {
        guard lastRun != nil else { return }
        let resting = volts - current * filters[index].presentR0
        filters[index].recalibrate(to: curve.soc(atVoltage: resting), sigma: 0.03)
    }
}

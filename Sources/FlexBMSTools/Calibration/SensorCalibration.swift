import BMSCore
import Foundation

/// Host side of the measurement calibration: from readings a technician took (what the BMS
/// showed, what a reference instrument showed) to the board's gain and offset settings.
///
/// The BMS corrects a channel as `gain × (raw − offset)`. The readings it shows are already
/// corrected with the calibration stored at the time, so each one is first taken back to the
/// raw value with that stored calibration; the new calibration then replaces the old one
/// rather than stacking on it. With one point only the offset is fitted (for the current: the
/// gain instead when the point is not at zero); with two or more, spread far enough apart,
/// gain and offset by least squares.
public enum SensorCalibration {
    /// One channel's gain and offset in the BMS's model.
    public struct Channel: Equatable, Sendable {
        public var gain: Double
        public var offset: Double

        public init(gain: Double, offset: Double) {
            self.gain = gain
            self.offset = offset
        }

        /// The reading the BMS shows for `raw`.
        public func corrected(_ raw: Double) -> Double { gain * (raw - offset) }
        /// The raw value behind a reading the BMS showed.
        public func raw(_ shown: Double) -> Double { shown / gain + offset }
    }

    /// A reading of the BMS and of the reference at the same moment.
    public struct Point: Sendable {
        public var shown: Double
        public var reference: Double

        public init(shown: Double, reference: Double) {
            self.shown = shown
            self.reference = reference
        }
    }

    /// The new calibration of one channel and how well it fits the points.
    public struct Fit: Sendable {
        public var channel: Channel
        /// What was fitted: "offset", "gain" or "gain and offset".
        public var fitted: String
        /// Largest |reference − corrected| over the points with the new calibration.
        public var worstResidual: Double
    }

    public enum Failure: Error, CustomStringConvertible, Equatable {
        /// Two or more points whose references lie too close to tell gain from offset.
        case pointsTooClose(channel: String, spread: Double, needed: Double, unit: String)
        /// The raw reading at the gain point equals the offset: no gain can be computed.
        case noSignal(channel: String)
        case badChannel(path: String, line: Int, value: Double, count: Int, what: String)
        case noPoints(String)

        public var description: String {
            switch self {
            case .pointsTooClose(let c, let spread, let needed, let unit):
                "\(c): the references span \(fmt(spread)) \(unit), at least \(fmt(needed)) \(unit) is needed to separate gain from offset (or give one point to fit the offset only)"
            case .noSignal(let c): "\(c): the reading at the gain point equals the offset; take it at a current well away from zero"
            case .badChannel(let path, let line, let value, let count, let what):
                "\(path), line \(line): \(what) \(fmt(value)) does not exist (1…\(count))"
            case .noPoints(let path): "\(path): no readings"
            }
        }
    }

    /// Fits one channel. `minimumSpread` is the reference span two points need; with one
    /// point, `gainFromOnePoint` says whether a point away from zero (|reference| ≥
    /// `minimumSpread`) sets the gain (current) or whether one point always sets the offset.
    public static func fit(_ points: [Point], old: Channel, name: String, minimumSpread: Double, unit: String,
                           gainFromOnePoint: Bool) throws(Failure) -> Fit {
        guard let first = points.first else { throw .noPoints(name) }
        let raws = points.map { old.raw($0.shown) }
        var new = old
        let fitted: String
        if points.count == 1 {
            if gainFromOnePoint && abs(first.reference) >= minimumSpread {
                let signal = raws[0] - old.offset
                guard abs(signal) > 1e-9 else { throw .noSignal(channel: name) }
                new.gain = first.reference / signal
                fitted = "gain"
            } else {
                new.offset = raws[0] - first.reference / old.gain
                fitted = "offset"
            }
        } else {
            let refs = points.map(\.reference)
            let spread = refs.max()! - refs.min()!
            guard spread >= minimumSpread else {
                throw .pointsTooClose(channel: name, spread: spread, needed: minimumSpread, unit: unit)
            }
            // Least squares reference = a·raw + b, then gain a and offset −b/a.
            let n = Double(points.count)
            let mx = raws.reduce(0, +) / n, my = refs.reduce(0, +) / n
            var sxy = 0.0, sxx = 0.0
            for (x, y) in zip(raws, refs) {
                sxy += (x - mx) * (y - my)
                sxx += (x - mx) * (x - mx)
            }
            guard sxx > 0 else { throw .noSignal(channel: name) }
            let a = sxy / sxx
            let b = my - a * mx
            new = Channel(gain: a, offset: -b / a)
            fitted = "gain and offset"
        }
        let worst = zip(raws, points).map { abs($1.reference - new.corrected($0)) }.max() ?? 0
        return Fit(channel: new, fitted: fitted, worstResidual: worst)
    }

    /// The current sensor from a table with columns `bms_A` and `reference_A`.
    public static func current(_ table: NumericTable, config: BMSConfig) throws -> Fit {
        let shown = try table.values("bms_A"), refs = try table.values("reference_A")
        let old = Channel(gain: Double(config.calibration.currentGain), offset: Double(config.calibration.currentOffset))
        // Two points need at least a tenth of the board's current between them (2 A at least),
        // or the noise of each reading becomes a gain error.
        let spread = max(2, 0.1 * Double(config.current.boardMaximum))
        return try fit(zip(shown, refs).map { Point(shown: $0, reference: $1) }, old: old, name: "current",
                       minimumSpread: spread, unit: "A", gainFromOnePoint: true)
    }

    /// Cell channels from a table with columns `cell` (1…cells), `bms_V`, `reference_V`; any
    /// number of rows per cell. Returns the cells that had rows, in order.
    public static func cells(_ table: NumericTable, config: BMSConfig) throws -> [(cell: Int, fit: Fit)] {
        let groups = try grouped(table, channel: "cell", shown: "bms_V", reference: "reference_V",
                                 count: Int(config.pack.seriesCells), what: "cell")
        return try groups.map { cell, points in
            let old = Channel(gain: Double(config.calibration.cellGain[cell - 1]),
                              offset: Double(config.calibration.cellOffset[cell - 1]))
            // 0.2 V between the points: a 1 mV reading error then costs 0.5 % of gain at most.
            return (cell, try fit(points, old: old, name: "cell \(cell)", minimumSpread: 0.2, unit: "V",
                                  gainFromOnePoint: false))
        }
    }

    /// Thermistor offsets from a table with columns `sensor` (1…8), `bms_degC`,
    /// `reference_degC`: the mean difference per sensor (an NTC's error near room temperature
    /// is an offset; its curve is the AFE driver's business).
    public static func temperatures(_ table: NumericTable, config: BMSConfig) throws -> [(sensor: Int, offset: Double, worstResidual: Double)] {
        let groups = try grouped(table, channel: "sensor", shown: "bms_degC", reference: "reference_degC",
                                 count: Measurement.maxTemperatures, what: "sensor")
        return groups.map { sensor, points in
            let old = Double(config.calibration.temperatureOffset[sensor - 1])
            // shown = raw − old, so raw − reference is the new offset.
            let differences = points.map { $0.shown + old - $0.reference }
            let offset = differences.reduce(0, +) / Double(differences.count)
            let worst = differences.map { abs($0 - offset) }.max() ?? 0
            return (sensor, offset, worst)
        }
    }

    private static func grouped(_ table: NumericTable, channel: String, shown: String, reference: String,
                                count: Int, what: String) throws -> [(Int, [Point])] {
        let channels = try table.values(channel), values = try table.values(shown), refs = try table.values(reference)
        var groups: [Int: [Point]] = [:]
        for k in channels.indices {
            let c = channels[k]
            guard c.rounded() == c, c >= 1, c <= Double(count) else {
                throw Failure.badChannel(path: table.path, line: table.lineNumbers[k], value: c, count: count, what: what)
            }
            groups[Int(c), default: []].append(Point(shown: values[k], reference: refs[k]))
        }
        return groups.keys.sorted().map { ($0, groups[$0]!) }
    }
}

private func fmt(_ x: Double) -> String {
    let s = String(format: "%.4f", x)
    var t = s
    while t.hasSuffix("0") { t.removeLast() }
    if t.hasSuffix(".") { t.removeLast() }
    return t.isEmpty ? s : t
}

import BMSCore
import Foundation

/// Builds an OCV curve from a slow (about C/20) full discharge followed by a full charge, as a
/// user records it on their own cell: time, measured current and measured voltage only.
///
/// Each branch gets its SOC axis from its own charge throughput (discharge: 1 at its start,
/// 0 at its end; charge: 0 at its start, 1 at its end), and the OCV at each 5 % point is the
/// mean of the two branches: at equal current the resistive drop and the hysteresis enter
/// them with opposite signs and cancel.
public enum OCVCalibration {
    public struct Result {
        public var curve: OCVCurve
        /// Charge moved by the discharge and by the charge branch, Ah.
        public var dischargeAh: Double
        public var chargeAh: Double
        /// Largest half-difference between the branches (resistive drop + hysteresis), V.
        public var maxHalfGap: Double
    }

    /// `currentPositiveDischarge`: the file counts discharge current as positive (as the
    /// shared ground-truth data does); FlexBMS counts charge as positive.
    public static func calibrate(_ table: NumericTable, currentPositiveDischarge: Bool)
        throws(NumericTableError) -> Result {
        let time = try table.values("time_s")
        var current = try table.values("current_meas_A")
        let voltage = try table.values("voltage_meas_V")
        if currentPositiveDischarge { current = current.map { -$0 } }
        guard let peak = current.map({ abs($0) }).max(), peak > 0 else {
            throw .invalid(table.path, "no current flows in the record")
        }
        // A branch is a run of samples with the current beyond 20 % of its largest value.
        let threshold = 0.2 * peak
        func branch(_ sign: Double, after start: Int) -> Range<Int>? {
            guard let first = current[start...].firstIndex(where: { $0 * sign > threshold }) else { return nil }
            let end = current[first...].firstIndex(where: { $0 * sign <= threshold }) ?? current.count
            return first..<end
        }
        guard let discharge = branch(-1, after: 0) else {
            throw .invalid(table.path, "no discharge branch (current below -20 % of its peak)")
        }
        guard let charge = branch(1, after: discharge.upperBound) else {
            throw .invalid(table.path, "no charge branch after the discharge")
        }
        // (SOC, V) along a branch, SOC from the integrated current.
        func curve(_ range: Range<Int>, discharging: Bool) -> (points: [(Double, Double)], ah: Double) {
            var ah = 0.0
            var raw: [(Double, Double)] = [(0, voltage[range.lowerBound])]
            for k in range.dropFirst() {
                ah += abs(current[k - 1]) * (time[k] - time[k - 1]) / 3600
                raw.append((ah, voltage[k]))
            }
            let total = max(ah, 1e-9)
            let points = raw.map { (discharging ? 1 - $0.0 / total : $0.0 / total, $0.1) }
            return (discharging ? points.reversed() : points, total)
        }
        let down = curve(discharge, discharging: true)
        let up = curve(charge, discharging: false)
        guard down.points.count >= 40, up.points.count >= 40 else {
            throw .invalid(table.path, "the branches are too short (\(down.points.count) and \(up.points.count) samples); record a full C/20 discharge and charge")
        }
        func interpolate(_ points: [(Double, Double)], at soc: Double) -> Double {
            if soc <= points[0].0 { return points[0].1 }
            if soc >= points[points.count - 1].0 { return points[points.count - 1].1 }
            var lo = 0, hi = points.count - 1
            while hi - lo > 1 {
                let mid = (lo + hi) / 2
                if points[mid].0 <= soc { lo = mid } else { hi = mid }
            }
            let (s0, v0) = points[lo], (s1, v1) = points[hi]
            return s1 > s0 ? v0 + (v1 - v0) * (soc - s0) / (s1 - s0) : v0
        }
        var volts = InlineArray<21, Float>(repeating: 0)
        var gap = 0.0
        for i in 0...20 {
            let soc = Double(i) / 20
            let d = interpolate(down.points, at: soc), c = interpolate(up.points, at: soc)
            volts[i] = Float((d + c) / 2)
            gap = max(gap, abs(c - d) / 2)
        }
        // Measurement noise can make neighbouring plateau points dip: keep the curve rising.
        for i in 1...20 where volts[i] < volts[i - 1] { volts[i] = volts[i - 1] }
        return Result(curve: OCVCurve(volts: volts), dischargeAh: down.ah, chargeAh: up.ah, maxHalfGap: gap)
    }

    /// The curve as CSV: `soc_pct,ocv_V`, 21 rows.
    public static func csv(_ curve: OCVCurve) -> String {
        var text = "soc_pct,ocv_V\n"
        for i in 0...20 { text += "\(i * 5),\(String(format: "%.4f", Double(curve.volts[i])))\n" }
        return text
    }

    /// Reads a curve written by `csv(_:)` (or any CSV with `soc_pct` 0, 5, …, 100 and `ocv_V`).
    public static func read(path: String) throws(NumericTableError) -> OCVCurve {
        let table = try NumericTable(path: path)
        let soc = try table.values("soc_pct"), ocv = try table.values("ocv_V")
        guard soc.count == 21, soc.enumerated().allSatisfy({ $0.element == Double($0.offset * 5) }) else {
            throw .invalid(path, "needs 21 rows with soc_pct 0, 5, …, 100")
        }
        var volts = InlineArray<21, Float>(repeating: 0)
        for i in 0..<21 { volts[i] = Float(ocv[i]) }
        let curve = OCVCurve(volts: volts)
        guard curve.isMonotonic else { throw .invalid(path, "ocv_V must not fall as soc_pct rises") }
        return curve
    }
}

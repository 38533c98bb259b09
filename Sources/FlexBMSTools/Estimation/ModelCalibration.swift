import BMSCore
import Foundation

/// Identifies a cell's equivalent circuit — R0 and two RC pairs — from a pulse record: short
/// current pulses, each between two rests, as a hybrid pulse test gives them.
///
/// For every pulse: R0 from the voltage jumps where the current switches on and off (one
/// sample apart, before the RC pairs have moved much); the RC pairs from the relaxation in
/// the rest that follows, fitted as `c + a1·e^(−t/τ1) + a2·e^(−t/τ2)` by least squares over a
/// grid of time constants. A pair charged for the pulse's length T from rest holds
/// `R·I·(1 − e^(−T/τ))` at its end, which gives each R from its amplitude. The result is the
/// median over the pulses, so one disturbed pulse does not move it.
public enum ModelCalibration {
    public struct Pulse: Equatable {
        /// Start of the pulse (s, the record's time), its length (s) and its current (A, the
        /// record's sign convention turned to + = charge).
        public var start: Double
        public var duration: Double
        public var current: Double
        public var r0: Double
        public var r1: Double
        public var tau1: Double
        public var r2: Double
        public var tau2: Double
        /// RMS of the relaxation fit's residual, V.
        public var fitRMS: Double
        /// Mean temperature during the pulse, °C (nil: the record has none).
        public var temperature: Double?
    }

    public struct Result {
        public var pulses: [Pulse]
        public var r0: Double
        public var r1: Double
        public var tau1: Double
        public var r2: Double
        public var tau2: Double

        /// The result as JSON (the pulses with it).
        public var json: String {
            func f(_ x: Double, _ d: Int) -> String { fixed(x, d) }
            let lines = pulses.map { p in
                "    {\"start_s\": \(f(p.start, 1)), \"duration_s\": \(f(p.duration, 1)), \"current_A\": \(f(p.current, 3)), "
                    + "\"r0_ohm\": \(f(p.r0, 6)), \"r1_ohm\": \(f(p.r1, 6)), \"tau1_s\": \(f(p.tau1, 1)), "
                    + "\"r2_ohm\": \(f(p.r2, 6)), \"tau2_s\": \(f(p.tau2, 1)), \"fit_rms_mV\": \(f(p.fitRMS * 1000, 3)), "
                    + "\"temperature_C\": \(p.temperature.map { f($0, 1) } ?? "null")}"
            }
            return """
                {
                  "r0_ohm": \(f(r0, 6)),
                  "r1_ohm": \(f(r1, 6)),
                  "tau1_s": \(f(tau1, 1)),
                  "r2_ohm": \(f(r2, 6)),
                  "tau2_s": \(f(tau2, 1)),
                  "pulses": [
                \(lines.joined(separator: ",\n"))
                  ]
                }

                """
        }
    }

    /// Reads the circuit from a file `identify`'s JSON was saved to, as settings (mΩ, s).
    public static func readModel(path: String) throws(NumericTableError) -> CellModelConfig {
        let object: [String: Any]
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard let parsed = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw NumericTableError.invalid(path, "not a JSON object")
            }
            object = parsed
        } catch let error as NumericTableError {
            throw error
        } catch {
            throw .invalid(path, "not readable JSON (\(error.localizedDescription))")
        }
        func number(_ key: String) throws(NumericTableError) -> Float {
            guard let x = object[key] as? Double, x.isFinite, x > 0 else {
                throw .invalid(path, "\(key) must be a positive number (write the file with flexbms calibrate model --json)")
            }
            return Float(x)
        }
        var model = CellModelConfig()
        model.r0 = try number("r0_ohm") * 1000
        model.r1 = try number("r1_ohm") * 1000
        model.tau1 = try number("tau1_s")
        model.r2 = try number("r2_ohm") * 1000
        model.tau2 = try number("tau2_s")
        return model
    }

    /// A pulse is a stretch of at least `pulseC` × capacity lasting at most `maxPulse`
    /// seconds, with at least `restBefore` s of rest (|I| ≤ `restC` × capacity) before it
    /// and `restAfter` s after it.
    public static var pulseC: Double { 0.2 }
    public static var restC: Double { 0.02 }
    public static var maxPulse: Double { 120 }
    public static var restBefore: Double { 60 }
    public static var restAfter: Double { 300 }
    /// The relaxation fitted: at most this long after the pulse, s.
    public static var fitWindow: Double { 1800 }

    public static func identify(_ table: NumericTable, capacityAh: Double, currentColumn: String,
                                voltageColumn: String, currentPositiveDischarge: Bool) throws(NumericTableError) -> Result {
        let time = try table.values("time_s")
        var current = try table.values(currentColumn)
        let voltage = try table.values(voltageColumn)
        let temperature = try? table.values("temperature_C")
        if currentPositiveDischarge { current = current.map { -$0 } }
        let rest = restC * capacityAh, pulse = pulseC * capacityAh
        var pulses: [Pulse] = []
        var k = 1
        while k < time.count {
            // The first sample of a pulse: current beyond the pulse level after a rest sample.
            guard abs(current[k]) >= pulse, abs(current[k - 1]) <= rest else { k += 1; continue }
            let start = k
            var end = k
            while end < time.count && abs(current[end] - current[start]) <= 0.1 * abs(current[start]) { end += 1 }
            defer { k = max(end, k + 1) }
            // `end` is the first sample after the pulse; it must be a rest.
            guard end < time.count, abs(current[end]) <= rest else { continue }
            let duration = time[end] - time[start]
            guard duration > 0, duration <= maxPulse else { continue }
            var before = start - 1
            while before > 0 && abs(current[before - 1]) <= rest { before -= 1 }
            guard time[start - 1] - time[before] >= restBefore else { continue }
            var after = end
            while after + 1 < time.count && abs(current[after + 1]) <= rest
                    && time[after + 1] - time[end] <= fitWindow { after += 1 }
            guard time[after] - time[end] >= restAfter else { continue }
            let i = (current[start..<end].reduce(0, +)) / Double(end - start)
            let r0On = (voltage[start] - voltage[start - 1]) / (current[start] - current[start - 1])
            let r0Off = (voltage[end] - voltage[end - 1]) / (current[end] - current[end - 1])
            let r0 = (r0On + r0Off) / 2
            guard r0 > 0, r0.isFinite else { continue }
            let ts = (end...after).map { time[$0] - time[end] }
            // The relaxation, with the ohmic part of the rest current taken off.
            let ys = (end...after).map { voltage[$0] - current[$0] * r0 }
            guard let fit = fitTwoExponentials(ts, ys) else { continue }
            let r1 = fit.a1 / (i * (1 - Foundation.exp(-duration / fit.tau1)))
            let r2 = fit.a2 / (i * (1 - Foundation.exp(-duration / fit.tau2)))
            var meanTemperature: Double?
            if let temperature { meanTemperature = temperature[start..<end].reduce(0, +) / Double(end - start) }
            pulses.append(Pulse(start: time[start], duration: duration, current: i, r0: r0, r1: r1,
                                tau1: fit.tau1, r2: r2, tau2: fit.tau2, fitRMS: fit.rms,
                                temperature: meanTemperature))
        }
        guard !pulses.isEmpty else {
            throw .invalid(table.path, "no pulse found: need current steps of at least \(fixed(pulse, 2)) A (\(pulseC) C) lasting at most \(Int(maxPulse)) s, with \(Int(restBefore)) s of rest (at most \(fixed(rest, 2)) A) before and \(Int(restAfter)) s after")
        }
        func median(_ values: [Double]) -> Double {
            let s = values.sorted()
            return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        }
        return Result(pulses: pulses, r0: median(pulses.map(\.r0)), r1: median(pulses.map(\.r1)),
                      tau1: median(pulses.map(\.tau1)), r2: median(pulses.map(\.r2)),
                      tau2: median(pulses.map(\.tau2)))
    }

    struct Fit { var a1: Double, tau1: Double, a2: Double, tau2: Double, rms: Double }

    /// Least squares of `c + a1·e^(−t/τ1) + a2·e^(−t/τ2)` for τ1 on a log grid of 1–120 s
    /// and τ2 of 3 τ1 to 3 600 s (linear in c, a1, a2 for each pair), then refined on finer
    /// grids around the best pair (to about 1 %).
    static func fitTwoExponentials(_ t: [Double], _ y: [Double]) -> Fit? {
        guard t.count >= 10 else { return nil }
        func solve(_ tau1: Double, _ tau2: Double) -> Fit? {
            // Normal equations of the 3-parameter linear fit.
            var m = [[Double]](repeating: [0, 0, 0], count: 3)
            var v = [0.0, 0, 0]
            for k in t.indices {
                let row = [1, Foundation.exp(-t[k] / tau1), Foundation.exp(-t[k] / tau2)]
                for a in 0..<3 {
                    v[a] += row[a] * y[k]
                    for b in 0..<3 { m[a][b] += row[a] * row[b] }
                }
            }
            guard let x = solve3(m, v) else { return nil }
            var sse = 0.0
            for k in t.indices {
                let e = y[k] - (x[0] + x[1] * Foundation.exp(-t[k] / tau1) + x[2] * Foundation.exp(-t[k] / tau2))
                sse += e * e
            }
            return Fit(a1: x[1], tau1: tau1, a2: x[2], tau2: tau2, rms: (sse / Double(t.count)).squareRoot())
        }
        func grid(_ low: Double, _ high: Double, _ n: Int) -> [Double] {
            (0..<n).map { low * Foundation.pow(high / low, Double($0) / Double(n - 1)) }
        }
        var best: Fit?
        for tau1 in grid(1, 120, 24) {
            for tau2 in grid(3 * tau1, 3600, 24) {
                if let f = solve(tau1, tau2), f.rms < best?.rms ?? .infinity { best = f }
            }
        }
        guard best != nil else { return nil }
        // Three refinements, each around the best pair on a grid three times finer.
        for span in [1.3, 1.09, 1.03] {
            let centre = best!
            for tau1 in grid(centre.tau1 / span, centre.tau1 * span, 9) {
                for tau2 in grid(max(centre.tau2 / span, 2 * tau1), centre.tau2 * span, 9) {
                    if let f = solve(tau1, tau2), f.rms < best!.rms { best = f }
                }
            }
        }
        return best
    }

    /// Solves a 3×3 system by Cramer's rule (nil when singular).
    static func solve3(_ m: [[Double]], _ v: [Double]) -> [Double]? {
        func det(_ a: [[Double]]) -> Double {
            a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
                - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
                + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
        }
        let d = det(m)
        guard abs(d) > 1e-300, d.isFinite else { return nil }
        return (0..<3).map { column in
            var a = m
            for row in 0..<3 { a[row][column] = v[row] }
            return det(a) / d
        }
    }
}

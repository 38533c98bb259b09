import BMSCore
import Foundation

/// Runs the SOC filter and the reference firmware's method over a recorded data set and
/// scores both against the recorded truth.
///
/// The estimators see only `time_s`, `current_meas_A`, `voltage_meas_V` and `temperature_C`;
/// `soc_true` is read only to score them.
public enum SOCBench {
    public struct Score: Equatable {
        public var rmsePercent: Double
        public var maxAbsPercent: Double
        public var finalAbsPercent: Double
        /// Seconds from the start until the error stays below 2 % for good (nil: never).
        public var convergenceSeconds: Double?
    }

    public struct Result {
        public var filter: Score
        public var baseline: Score
        public var samples: Int
        public var learnedR0: Float
        public var finalOffset: Float
        /// The capacity learned from throughput between well-known points, and how many
        /// samples fed it.
        public var learnedCapacityAh: Float
        public var capacitySamples: Int
        /// The filter's SOC at every sample, for plots and tests.
        public var estimates: [Float]
        /// Time, truth and the baseline at every sample.
        public var times: [Double]
        public var truth: [Double]
        public var baselineEstimates: [Double]

        /// CSV trace: time_s, soc_true, soc_estimator, soc_baseline.
        public var traceCSV: String {
            var text = "time_s,soc_true,soc_estimator,soc_baseline\n"
            for k in times.indices {
                text += String(format: "%.1f,%.5f,%.5f,%.5f\n", times[k], truth[k], Double(estimates[k]), baselineEstimates[k])
            }
            return text
        }
    }

    public static func run(_ table: NumericTable, chemistry: Chemistry, capacityAh: Float,
                           curve: OCVCurve, curveIsCalibrated: Bool, model: CellModelConfig = CellModelConfig(),
                           currentPositiveDischarge: Bool) throws(NumericTableError) -> Result {
        let time = try table.values("time_s")
        var current = try table.values("current_meas_A")
        let voltage = try table.values("voltage_meas_V")
        let temperature = try table.values("temperature_C")
        let truth = try table.values("soc_true")
        if currentPositiveDischarge { current = current.map { -$0 } }
        guard time.count >= 2 else { throw .invalid(table.path, "needs at least two samples") }

        var config = BMSConfig.preset(chemistry == .custom ? .lfp : chemistry, cells: 3, capacityAh: capacityAh)!
        config.pack.chemistry = chemistry
        config.cellModel = model
        var cell = CellEstimator(filter: SOCFilter(curve: curve, parameters: CellModelParameters(config),
                                                   voltage: Float(voltage[0]), current: Float(current[0])),
                                 learnsCapacity: curveIsCalibrated)
        // The reference firmware: SOC from the OCV table at the first sample, then counting.
        var baseline = Double(curve.soc(atVoltage: Float(voltage[0])))
        var filterErrors = [Double(cell.soc) - truth[0]]
        var baselineErrors = [baseline - truth[0]]
        var estimates = [cell.soc]
        var baselineEstimates = [baseline]
        for k in 1..<time.count {
            let dt = time[k] - time[k - 1]
            cell.update(current: Float(current[k]), voltage: Float(voltage[k]),
                          temperature: Float(temperature[k]), dt: Float(dt))
            // As the reference firmware does: the current just read times the elapsed time.
            baseline += current[k] * dt / 3600 / Double(capacityAh)
            baseline = min(max(baseline, 0), 1)
            filterErrors.append(Double(cell.soc) - truth[k])
            baselineErrors.append(baseline - truth[k])
            estimates.append(cell.soc)
            baselineEstimates.append(baseline)
        }
        return Result(filter: score(filterErrors, time), baseline: score(baselineErrors, time),
                      samples: time.count, learnedR0: cell.filter.learnedR0, finalOffset: cell.filter.offset,
                      learnedCapacityAh: cell.capacity.capacityAh, capacitySamples: cell.capacity.samples,
                      estimates: estimates, times: time, truth: truth,
                      baselineEstimates: baselineEstimates)
    }

    static func score(_ errors: [Double], _ time: [Double]) -> Score {
        let squares = errors.reduce(0) { $0 + $1 * $1 }
        let rmse = (squares / Double(errors.count)).squareRoot()
        let maxAbs = errors.map(abs).max() ?? 0
        var converged: Double? = time[0] - time[0]
        for k in errors.indices.reversed() where abs(errors[k]) >= 0.02 {
            converged = k + 1 < time.count ? time[k + 1] - time[0] : nil
            break
        }
        return Score(rmsePercent: rmse * 100, maxAbsPercent: maxAbs * 100,
                     finalAbsPercent: abs(errors[errors.count - 1]) * 100, convergenceSeconds: converged)
    }
}

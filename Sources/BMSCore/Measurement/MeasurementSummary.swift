/// The extremes of one `Measurement` over the cells actually fitted, computed once per step
/// so every protection row reads the same numbers.
struct MeasurementSummary {
    var minCell: Float = 0
    var minCellIndex: UInt8 = 0
    var maxCell: Float = 0
    var maxCellIndex: UInt8 = 0
    var cellSum: Float = 0
    /// First cell outside the plausible sense range, if any.
    var implausibleCell: UInt8?
    /// At least one cell reads plausibly (otherwise min/max are meaningless).
    var hasPlausibleCell = false
    /// Coldest / hottest plausible cell sensor, and its sensor index.
    var minCellTemperature: Float?
    var minCellTemperatureIndex: UInt8 = 0
    var maxCellTemperature: Float?
    var maxCellTemperatureIndex: UInt8 = 0
    var maxMosfetTemperature: Float?
    var maxMosfetTemperatureIndex: UInt8 = 0
    var maxBoardTemperature: Float?
    var maxBoardTemperatureIndex: UInt8 = 0
    /// First sensor reading open or shorted, if any.
    var implausibleSensor: UInt8?
    var implausibleSensorValue: Float = 0

    init(_ m: Measurement, config: BMSConfig) {
        let cells = Int(min(config.pack.seriesCells, UInt8(Measurement.maxCells)))
        let p = config.plausibility
        // Readings outside the sense range are a wiring fault (open wire), not a cell: they
        // are left out of the extremes so they do not also trip voltage faults.
        var first = true
        for i in 0..<cells {
            let v = m.cellVoltages[i]
            cellSum += v
            // NaN is implausible too: written so that it fails the range test.
            guard v >= p.cellSenseMinimum && v <= p.cellSenseMaximum else {
                if implausibleCell == nil { implausibleCell = UInt8(i) }
                continue
            }
            if first || v < minCell { minCell = v; minCellIndex = UInt8(i) }
            if first || v > maxCell { maxCell = v; maxCellIndex = UInt8(i) }
            first = false
        }
        hasPlausibleCell = !first
        for i in 0..<m.temperatureCount {
            let t = m.temperatures[i]
            let index = UInt8(i)
            guard t > p.thermistorMinimum && t < p.thermistorMaximum else {
                if implausibleSensor == nil {
                    implausibleSensor = index
                    implausibleSensorValue = t
                }
                continue
            }
            switch m.temperatureRoles[i] {
            case .cell:
                if minCellTemperature.map({ t < $0 }) ?? true {
                    minCellTemperature = t; minCellTemperatureIndex = index
                }
                if maxCellTemperature.map({ t > $0 }) ?? true {
                    maxCellTemperature = t; maxCellTemperatureIndex = index
                }
            case .mosfet:
                if maxMosfetTemperature.map({ t > $0 }) ?? true {
                    maxMosfetTemperature = t; maxMosfetTemperatureIndex = index
                }
            case .board:
                if maxBoardTemperature.map({ t > $0 }) ?? true {
                    maxBoardTemperature = t; maxBoardTemperatureIndex = index
                }
            case .ambient:
                break
            }
        }
    }
}

import PackSim

/// A recorded terminal profile from a CSV file: columns `time_s` and `power_W`, power
/// positive when a source charges the pack and negative when a load draws from it; linear
/// between rows, the last row held after the end. The source regulates to
/// `voltageLimit` (CV) with at most `currentLimit` A, like a charge controller.
public struct CSVProfile: PowerProfile {
    let times: [Double]
    let powers: [Float]
    let voltageLimit: Float
    let currentLimit: Float
    var cursor = 0

    public init(path: String, voltageLimit: Float, currentLimit: Float) throws(NumericTableError) {
        let table = try NumericTable(path: path)
        let times = try table.values("time_s")
        let powers = try table.values("power_W")
        for k in times.indices.dropFirst() where !(times[k] > times[k - 1]) {
            throw .badRow(path, table.lineNumbers[k], "time_s \(times[k]) does not increase")
        }
        self.times = times
        self.powers = powers.map { Float($0) }
        self.voltageLimit = voltageLimit
        self.currentLimit = currentLimit
    }

    /// Power at `seconds` (linear between rows; first/last row held outside).
    mutating func power(at seconds: Double) -> Float {
        if seconds <= times[0] { return powers[0] }
        while cursor + 1 < times.count && times[cursor + 1] <= seconds { cursor += 1 }
        guard cursor + 1 < times.count else { return powers[powers.count - 1] }
        let f = Float((seconds - times[cursor]) / (times[cursor + 1] - times[cursor]))
        return powers[cursor] + (powers[cursor + 1] - powers[cursor]) * f
    }

    public mutating func demand(at time: SimTime) -> TerminalDemand {
        let w = power(at: Double(time.milliseconds) / 1000)
        var d = TerminalDemand()
        if w >= 0 {
            d.sourceW = w
            d.sourceVoltageLimit = voltageLimit
            d.sourceCurrentLimit = currentLimit
        } else {
            d.loadW = -w
        }
        return d
    }
}

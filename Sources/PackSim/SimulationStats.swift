/// What a run did, accumulated step by step from the truth (not from the BMS's readings), so
/// a fault the BMS misses shows here.
public struct SimulationStats: Sendable {
    public var steps: UInt64 = 0
    /// Extremes of the true group voltages and temperatures, V and °C.
    public var minCellVoltage: Float = .infinity
    public var maxCellVoltage: Float = -.infinity
    public var maxCellTemperature: Float = -.infinity
    public var maxMosfetTemperature: Float = -.infinity
    /// Energy into and out of the pack at its terminals, Wh.
    public var energyChargedWh: Double = 0
    public var energyDischargedWh: Double = 0
    /// Load energy not delivered because the pack would not discharge, Wh.
    public var unservedLoadWh: Double = 0
    /// Seconds a true group voltage spent above the over-voltage trip plus its margin, below
    /// the full cutoff minus its margin, or a true temperature above the highest trip plus
    /// its margin (margins in `SimulationLimits`).
    public var secondsOverVoltage: Double = 0
    public var secondsUnderVoltage: Double = 0
    public var secondsOverTemperature: Double = 0

    public init() {}
}

/// The margins beyond a BMS limit that count as a violation in the results: a real pack
/// overshoots a trip a little while the delay runs.
public enum SimulationLimits {
    /// Over-voltage: 50 mV above the trip.
    public static var overvoltageMargin: Float { 0.05 }
    /// Under-voltage: 100 mV below the full cutoff (load sag before the delay ends).
    public static var undervoltageMargin: Float { 0.10 }
    /// Temperature: 5 K above the highest cell temperature trip.
    public static var temperatureMargin: Float { 5 }
}

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
    /// Seconds in which the BMS let current flow that deepened a violated limit: charge
    /// current while a true group voltage was above the over-voltage trip plus its margin,
    /// discharge current while one was below the full cutoff minus its margin, any current
    /// while a true group temperature was above the highest temperature trip plus its margin
    /// (margins in `SimulationLimits`; "current" means more than 1 % of 1 C). Limits crossed
    /// with the switches open — an internal short draining a cell, a hot room heating the
    /// pack — are physics the BMS cannot stop; they show in the extremes above instead.
    public var secondsOverVoltage: Double = 0
    public var secondsUnderVoltage: Double = 0
    public var secondsOverTemperature: Double = 0
    /// Energy burnt in the bleed resistors, Wh, and the hottest the board got, °C.
    public var balancingEnergyWh: Double = 0
    public var maxBoardTemperature: Float = -.infinity
    /// True SOC spread (highest minus lowest group), 0…1: at the start, and the last time the
    /// BMS had the pack full — at the top of charge groups of different capacity have a
    /// common reference, so what is left there is charge imbalance, which balancing removes.
    public var socSpreadStart: Float = 0
    public var socSpreadAtFull: Float?

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

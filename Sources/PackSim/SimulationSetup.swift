import BMSCore

/// Everything that defines a run besides the world profile and the faults.
public struct SimulationSetup: Sendable {
    public var chemistry: Chemistry
    /// Series groups, 3–16, and cells in parallel per group.
    public var cells: Int
    public var parallel: Int = 1
    /// Nominal pack capacity, Ah.
    public var capacityAh: Float
    public var spread: SpreadPreset = .new
    /// True SOC of every group at the start (the spread adds its offsets), 0–1.
    public var initialSOC: Float = 0.5
    /// Mean ambient temperature, °C, and the daily swing around it, ±K.
    public var ambient: Float = 25
    public var ambientSwing: Float = 0
    /// Step length, ms.
    public var stepMilliseconds: UInt64 = 1000
    public var seed: UInt64 = 1
    /// The BMS configuration; `nil` takes the chemistry's preset for the pack.
    public var config: BMSConfig?

    public init(chemistry: Chemistry, cells: Int, capacityAh: Float) {
        self.chemistry = chemistry
        self.cells = cells
        self.capacityAh = capacityAh
    }

    /// The configuration the BMS runs with.
    public var bmsConfig: BMSConfig? {
        config ?? BMSConfig.preset(chemistry, cells: UInt8(clamping: cells), capacityAh: capacityAh,
                                   parallelCells: UInt8(clamping: parallel))
    }
}

/// Why a simulation cannot start.
public enum SimulationError: Error, Sendable, CustomStringConvertible {
    /// The chemistry has no cell model (`custom`).
    case noCellModel
    /// The pack shape is out of range.
    case badShape
    /// The BMS configuration is invalid.
    case config(ConfigError)

    public var description: String {
        switch self {
        case .noCellModel: "the simulator has no cell model for this chemistry"
        case .badShape: "the pack shape is out of range (1-16 groups, at least 1 cell each, a positive capacity and step)"
        case .config(.invalid(let violations)):
            "the BMS configuration breaks \(violations.count + violations.dropped) rule(s), e.g. \(violations.count > 0 ? "\(violations[0].field)" : "?")"
        case .config: "the BMS configuration is invalid"
        }
    }
}

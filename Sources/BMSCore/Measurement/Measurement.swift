/// What a temperature sensor measures, which decides the limits it is checked against.
public enum TemperatureRole: UInt8, Sendable {
    /// On or between cells: charge and discharge windows.
    case cell
    /// On the power MOSFETs: `sMosfetMaxTemp_degC`.
    case mosfet
    /// Board or AFE die: `sBoardMaxTemp_degC`.
    case board
    /// Ambient air: reported, and checked only for sensor plausibility.
    case ambient
}

/// Conditions the AFE chip detected by itself (hardware comparators, diagnostics).
public struct AFEFlags: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static var shortCircuit: AFEFlags { AFEFlags(rawValue: 1 << 0) }
    public static var dischargeOvercurrent: AFEFlags { AFEFlags(rawValue: 1 << 1) }
    public static var chargeOvercurrent: AFEFlags { AFEFlags(rawValue: 1 << 2) }
    public static var openWire: AFEFlags { AFEFlags(rawValue: 1 << 3) }
}

/// One sample of the pack as read from the AFE: the only input of the protection.
///
/// Units: volts, amperes with **positive = charging**, °C. Cells are indexed from the most
/// negative (index 0) up; only the first `BMSConfig.pack.seriesCells` entries are used.
public struct Measurement: Sendable {
    /// Maximum series cells and thermistors the fixed storage holds.
    public static let maxCells = 16
    public static let maxTemperatures = 8

    /// When the AFE took the sample (uptime).
    public var timestamp: Timestamp
    public var cellVoltages: InlineArray<16, Float>
    /// Sum of the cells as the AFE measures it across the stack, V; `nil` if the chip has no
    /// such channel (then the cell-sum plausibility check is skipped).
    public var stackVoltage: Float?
    /// Voltage at the pack terminals (behind the switches), V.
    public var packVoltage: Float?
    /// Pack current, A, positive when charging.
    public var current: Float
    public var temperatures: InlineArray<8, Float>
    public var temperatureRoles: InlineArray<8, TemperatureRole>
    /// Number of valid entries in `temperatures`.
    public private(set) var temperatureCount: Int = 0
    public var afeFlags: AFEFlags
    /// Switch states read back from the hardware, when the board can read them.
    public var chargeSwitchReadback: Bool?
    public var dischargeSwitchReadback: Bool?

    public init(timestamp: Timestamp, cellVoltage: Float = 0, current: Float = 0) {
        self.timestamp = timestamp
        self.cellVoltages = InlineArray(repeating: cellVoltage)
        self.current = current
        self.temperatures = InlineArray(repeating: 0)
        self.temperatureRoles = InlineArray(repeating: .cell)
        self.afeFlags = []
    }

    /// Adds a sensor reading; returns `false` when all `maxTemperatures` slots are used.
    @discardableResult
    public mutating func addTemperature(_ degC: Float, role: TemperatureRole) -> Bool {
        guard temperatureCount < Measurement.maxTemperatures else { return false }
        temperatures[temperatureCount] = degC
        temperatureRoles[temperatureCount] = role
        temperatureCount += 1
        return true
    }
}

/// Why a driver call failed.
public enum AFEError: Error, Equatable, Sendable {
    /// The bus transfer failed (no acknowledge, bus hung).
    case bus(I2CError)
    /// The chip answered with a wrong CRC or transfer-buffer checksum.
    case corrupted
    /// The chip is not the one the driver is for (its device number).
    case wrongChip(UInt16)
    /// A subcommand did not complete within the polling budget.
    case busy
    /// A setting the chip cannot realise at all (outside its range after clamping would
    /// change its meaning, e.g. an over-voltage threshold below the under-voltage one).
    case unsupported
}

/// The protection limits an AFE enforces by itself, in SI units. `configure` returns the
/// values the chip really realises (thresholds and delays rounded to its steps, clamped to
/// its ranges), so the firmware and the user see what the hardware does.
public struct AFEProtection: Equatable, Sendable {
    public var cellOvervoltage: Float = 3.8          // V
    public var cellOvervoltageRecovery: Float = 3.5  // V, below which the trip releases
    public var cellOvervoltageDelayMs: UInt32 = 2000
    public var cellUndervoltage: Float = 2.5
    public var cellUndervoltageRecovery: Float = 2.8
    public var cellUndervoltageDelayMs: UInt32 = 2000
    public var chargeOvercurrent: Float = 100        // A
    public var chargeOvercurrentDelayMs: UInt32 = 100
    public var dischargeOvercurrent: Float = 120
    public var dischargeOvercurrentDelayMs: UInt32 = 100
    public var shortCircuit: Float = 300
    public var shortCircuitDelayMicroseconds: UInt32 = 200
    /// How long a short-circuit or over-current trip keeps its FET off before the chip retries.
    public var recoverySeconds: UInt32 = 5
    public var chargeMaximumTemperature: Float = 45  // °C
    public var chargeMinimumTemperature: Float = 0
    public var dischargeMaximumTemperature: Float = 60
    public var dischargeMinimumTemperature: Float = -20
    public var temperatureHysteresis: Float = 5      // K

    public init() {}
}

/// What the chip does about balancing by itself.
public struct AFEBalancing: Equatable, Sendable {
    /// Balance on its own (while charging and at rest) instead of only on `balance(_:)`.
    public var automatic = false
    /// No cell below this is bled, V.
    public var minimumCellVoltage: Float = 3.3
    /// Start when the highest cell is this much above the lowest, V.
    public var startDifference: Float = 0.02
    /// Stop when the difference has come down to this, V.
    public var stopDifference: Float = 0.01
    /// Cells bled at the same time, at most.
    public var maximumCells: Int = 4

    public init() {}
}

/// One reading of the pack as the chip measured it. Units: V, A (positive = charging), °C.
public struct AFEReading: Sendable {
    public var cellVoltages = InlineArray<16, Float>(repeating: 0)
    public var cellCount = 0
    public var stackVoltage: Float = 0
    public var packVoltage: Float = 0
    public var current: Float = 0
    public var temperatures = InlineArray<4, Float>(repeating: 0)
    public var temperatureCount = 0
    /// The die temperature.
    public var internalTemperature: Float = 0
    public var status = AFEStatus()
    public var switches = AFESwitches(charge: false, discharge: false)
    /// Cells being bled now (bit n = cell n + 1).
    public var balancing: UInt16 = 0

    public init() {}
}

/// The chip's own protection, as it stands: tripped (acting on a FET) and alerting (the
/// condition is present and its delay running).
public struct AFEStatus: Equatable, Sendable {
    public var tripped = AFEConditions()
    public var alerting = AFEConditions()
    public init() {}
}

/// Conditions an AFE detects by itself.
public struct AFEConditions: OptionSet, Equatable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static var cellOvervoltage: AFEConditions { AFEConditions(rawValue: 1 << 0) }
    public static var cellUndervoltage: AFEConditions { AFEConditions(rawValue: 1 << 1) }
    public static var chargeOvercurrent: AFEConditions { AFEConditions(rawValue: 1 << 2) }
    public static var dischargeOvercurrent: AFEConditions { AFEConditions(rawValue: 1 << 3) }
    public static var shortCircuit: AFEConditions { AFEConditions(rawValue: 1 << 4) }
    public static var chargeOvertemperature: AFEConditions { AFEConditions(rawValue: 1 << 5) }
    public static var chargeUndertemperature: AFEConditions { AFEConditions(rawValue: 1 << 6) }
    public static var dischargeOvertemperature: AFEConditions { AFEConditions(rawValue: 1 << 7) }
    public static var dischargeUndertemperature: AFEConditions { AFEConditions(rawValue: 1 << 8) }
    public static var internalOvertemperature: AFEConditions { AFEConditions(rawValue: 1 << 9) }
}

/// The two power switches.
public struct AFESwitches: Equatable, Sendable {
    public var charge: Bool
    public var discharge: Bool
    public init(charge: Bool, discharge: Bool) {
        self.charge = charge
        self.discharge = discharge
    }
}

/// Power modes of the chip.
public enum AFEMode: Equatable, Sendable {
    /// Measuring and protecting continuously.
    case normal
    /// Low power, FETs as they were, wakes on current (bq76952 SLEEP).
    case sleep
    /// FETs off, regulators off, wakes by its wake-up pin only (ship mode).
    case shutdown
}

/// The driver API every AFE chip implements, in the reference firmware's pattern: configure a
/// group of settings and get back what the chip realised, read, set the switches, balance,
/// change mode.
public protocol AFEDriver {
    /// Checks the chip is there and is the expected one, and puts it into a known state
    /// (FETs off and under the host's control, sleep off).
    mutating func start() throws(AFEError)
    /// Writes the protection limits; returns the values the chip realises.
    mutating func configure(_ protection: AFEProtection) throws(AFEError) -> AFEProtection
    /// Writes the balancing settings; returns the values the chip realises.
    mutating func configure(_ balancing: AFEBalancing) throws(AFEError) -> AFEBalancing
    mutating func read() throws(AFEError) -> AFEReading
    /// Allows (true) or forces off (false) each switch; the chip's own protection can still
    /// hold an allowed switch off.
    mutating func setSwitches(_ switches: AFESwitches) throws(AFEError)
    /// Bleeds the cells in `mask` (bit n = cell n + 1), 0 for none.
    mutating func balance(_ mask: UInt16) throws(AFEError)
    mutating func setMode(_ mode: AFEMode) throws(AFEError)
}

/// What a battery tells its inverter, in SI units and whatever the protocol: the limits it
/// asks the inverter to keep, its state, its alarms. The firmware fills one from the BMS once
/// per control step; each protocol encoder reads only what its frames carry.
///
/// Signs follow the BMS: current is positive when charging. Current limits are magnitudes.
public struct BatteryReport: Sendable, Equatable {
    /// Charge voltage limit (CVL) and discharge voltage limit (DVL), V at the battery.
    public var chargeVoltageLimit: Float = 0
    public var dischargeVoltageLimit: Float = 0
    /// Charge and discharge current limits (CCL, DCL), A, ≥ 0.
    public var chargeCurrentLimit: Float = 0
    public var dischargeCurrentLimit: Float = 0
    /// Whether the battery accepts charge and discharge now. A blocked direction is sent with
    /// a zero current limit whatever `chargeCurrentLimit`/`dischargeCurrentLimit` say.
    public var chargeAllowed = false
    public var dischargeAllowed = false
    /// State of charge and of health, 0–1.
    public var stateOfCharge: Float = 0
    public var stateOfHealth: Float = 1
    /// Absorption has finished (the BMS saw the pack full): only then may 100 % be reported
    /// when the profile caps the SOC at 99 %.
    public var full = false
    /// Battery voltage, V; current, A (+ = charging).
    public var voltage: Float = 0
    public var current: Float = 0
    /// Average, lowest and highest cell temperature, °C.
    public var temperature: Float = 25
    public var minTemperature: Float = 25
    public var maxTemperature: Float = 25
    /// Lowest and highest cell voltage, V.
    public var minCellVoltage: Float = 0
    public var maxCellVoltage: Float = 0
    /// Where the extremes are: pack (1-based, 0 = a single battery) and cell or sensor (1-based).
    public var minCell = Location()
    public var maxCell = Location()
    public var coldest = Location()
    public var warmest = Location()
    /// Conditions the battery has already protected itself against (a trip), and those it
    /// is approaching (warnings).
    public var protections = BatteryConditions()
    public var warnings = BatteryConditions()
    /// Requests to the inverter (Pylon's 0x35C and RS485 0x92 status bits).
    public var requests = BatteryRequests()
    /// Modules (packs) of the battery as the inverter should count them.
    public var modulesOnline: UInt16 = 1
    public var modulesBlockingCharge: UInt16 = 0
    public var modulesBlockingDischarge: UInt16 = 0
    public var modulesOffline: UInt16 = 0
    /// Nominal (installed) capacity, Ah.
    public var installedCapacity: Float = 0
    public var cycleCount: UInt16 = 0
    /// Energy into and out of the battery since counting began, kWh.
    public var chargedEnergy: Float = 0
    public var dischargedEnergy: Float = 0

    public init() {}

    /// A cell or sensor: its pack (0 when there is one battery) and its number, both from 1.
    public struct Location: Sendable, Equatable {
        public var pack: UInt8
        public var index: UInt8
        public init(pack: UInt8 = 0, index: UInt8 = 0) {
            self.pack = pack
            self.index = index
        }
    }
}

/// The conditions the inverter protocols can name. One set holds trips, another warnings.
///
/// The constants are computed properties: a stored static that is not a literal would be
/// initialised through `swift_once`, which needs atomics ARMv6-M lacks.
public struct BatteryConditions: OptionSet, Sendable, Equatable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// A cell (or the battery) too high or too low.
    public static var highVoltage: BatteryConditions { BatteryConditions(rawValue: 1 << 0) }
    public static var lowVoltage: BatteryConditions { BatteryConditions(rawValue: 1 << 1) }
    /// Cells too hot or too cold for discharging (and so for any use).
    public static var highTemperature: BatteryConditions { BatteryConditions(rawValue: 1 << 2) }
    public static var lowTemperature: BatteryConditions { BatteryConditions(rawValue: 1 << 3) }
    /// Cells too hot or too cold for charging only.
    public static var highChargeTemperature: BatteryConditions { BatteryConditions(rawValue: 1 << 4) }
    public static var lowChargeTemperature: BatteryConditions { BatteryConditions(rawValue: 1 << 5) }
    public static var highDischargeCurrent: BatteryConditions { BatteryConditions(rawValue: 1 << 6) }
    public static var highChargeCurrent: BatteryConditions { BatteryConditions(rawValue: 1 << 7) }
    public static var shortCircuit: BatteryConditions { BatteryConditions(rawValue: 1 << 8) }
    /// A switch (MOSFET or contactor) that does not do what it is told.
    public static var contactor: BatteryConditions { BatteryConditions(rawValue: 1 << 9) }
    /// The BMS cannot trust itself: open wire, its own temperature, a silent front end, a
    /// broken sensor.
    public static var internalError: BatteryConditions { BatteryConditions(rawValue: 1 << 10) }
    public static var cellImbalance: BatteryConditions { BatteryConditions(rawValue: 1 << 11) }
}

/// What the battery asks of the inverter beyond its limits.
public struct BatteryRequests: OptionSet, Sendable, Equatable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Pylon "force charge I" (charge immediately) and "force charge II" (charge before the
    /// battery shuts down).
    public static var forceCharge1: BatteryRequests { BatteryRequests(rawValue: 1 << 0) }
    public static var forceCharge2: BatteryRequests { BatteryRequests(rawValue: 1 << 1) }
    /// The SOC has not reached 97 % for a long time: charge it full to recalibrate.
    public static var fullCharge: BatteryRequests { BatteryRequests(rawValue: 1 << 2) }
}

/// Every condition the protection watches. The raw value is the bit number in the error flag
/// word (`rErrorFlags`): bits 0–14 keep the meaning of the Libre Solar BMS firmware so
/// existing apps decode them; bits 15 and up are FlexBMS additions.
///
/// Which directions each fault blocks is in `blocks`; the trip, release and pre-alarm levels
/// come from `BMSConfig` (see `Protection`).
public enum Fault: UInt8, CaseIterable, Sendable {
    /// Lowest cell at or below the full cutoff (`sCellUndervoltage_V`): deep discharge, both
    /// directions stop. (The reference blocks only discharge here; FlexBMS has the discharge
    /// cutoff above it for that, see `dischargeCutoff`.)
    case cellUndervoltage = 0
    /// Highest cell at or above `sCellOvervoltage_V`.
    case cellOvervoltage = 1
    /// Discharge current at or above `sShortCircuitLimit_A`, or the AFE's hardware short-circuit
    /// flag. Trips within one cycle: the µs delay is the AFE's job.
    case shortCircuit = 2
    /// Discharge current at or above `sDisOvercurrent_A` for `sDisOvercurrentDelay_ms`.
    case dischargeOvercurrent = 3
    /// Charge current at or above `sChgOvercurrent_A` for `sChgOvercurrentDelay_ms`.
    case chargeOvercurrent = 4
    /// A cell reading outside the plausible sense range, the cell sum disagreeing with the
    /// stack voltage, or the AFE's open-wire flag: the measurement can no longer be trusted.
    case openWire = 5
    /// Coldest cell sensor at or below `sDisMinTemp_degC`.
    case dischargeUndertemperature = 6
    /// Hottest cell sensor at or above `sDisMaxTemp_degC`.
    case dischargeOvertemperature = 7
    /// Coldest cell sensor at or below `sChgMinTemp_degC`.
    case chargeUndertemperature = 8
    /// Hottest cell sensor at or above `sChgMaxTemp_degC`.
    case chargeOvertemperature = 9
    /// Board / AFE die sensor at or above `sBoardMaxTemp_degC`.
    case boardOvertemperature = 10
    /// Highest minus lowest cell at or above `sCellImbalanceLimit_V` ("cell failure"), judged
    /// only while every cell lies between the discharge cutoff and the charge target.
    case cellImbalance = 11
    /// The discharge switch reads back different from its command. Diagnostic only: it blocks
    /// nothing, since opening a switch that does not obey cannot help and the reference shows
    /// that blocking on it locks the pack up.
    case dischargeSwitchFailure = 12
    /// The charge switch reads back different from its command. Diagnostic only (see above).
    case chargeSwitchFailure = 13
    /// MOSFET sensor at or above `sMosfetMaxTemp_degC`. Blocks both (the reference blocks
    /// nothing here, its known bug 9).
    case mosfetOvertemperature = 14
    /// No fresh measurement for `sMeasTimeout_ms`: the AFE is silent, go to the safe state.
    case afeSilent = 15
    /// Lowest cell at or below `sCellDischargeCutoff_V`: the pack is empty. Only discharge
    /// stops, so a charger or hybrid inverter can still recharge it.
    case dischargeCutoff = 16
    /// A thermistor reads outside the plausible range: open (very cold) or shorted (very hot).
    case temperatureSensor = 17

    /// Bit of this fault in the error flag word.
    @inlinable public var flag: UInt32 { UInt32(1) << UInt32(rawValue) }

    /// Directions this fault forbids while active.
    public var blocks: Directions {
        switch self {
        case .cellOvervoltage, .chargeOvercurrent, .chargeUndertemperature,
             .chargeOvertemperature:
            .charge
        case .shortCircuit, .dischargeOvercurrent, .dischargeUndertemperature,
             .dischargeOvertemperature, .dischargeCutoff:
            .discharge
        case .cellUndervoltage, .openWire, .boardOvertemperature, .cellImbalance,
             .mosfetOvertemperature, .afeSilent, .temperatureSensor:
            .both
        case .dischargeSwitchFailure, .chargeSwitchFailure:
            .none
        }
    }

    /// Whether the fault has a recovery policy (auto-recover / latch). The switch-failure
    /// diagnostics clear as soon as the read-back matches again.
    public var hasRecoveryPolicy: Bool {
        self != .dischargeSwitchFailure && self != .chargeSwitchFailure
    }

    /// The UpperCamelCase name used in configuration keys and event output
    /// (`s<Name>RecoveryDelay_s`, …).
    public var name: StaticString {
        switch self {
        case .cellUndervoltage: "CellUndervoltage"
        case .cellOvervoltage: "CellOvervoltage"
        case .shortCircuit: "ShortCircuit"
        case .dischargeOvercurrent: "DisOvercurrent"
        case .chargeOvercurrent: "ChgOvercurrent"
        case .openWire: "OpenWire"
        case .dischargeUndertemperature: "DisUndertemp"
        case .dischargeOvertemperature: "DisOvertemp"
        case .chargeUndertemperature: "ChgUndertemp"
        case .chargeOvertemperature: "ChgOvertemp"
        case .boardOvertemperature: "BoardOvertemp"
        case .cellImbalance: "CellImbalance"
        case .dischargeSwitchFailure: "DisSwitchFailure"
        case .chargeSwitchFailure: "ChgSwitchFailure"
        case .mosfetOvertemperature: "MosfetOvertemp"
        case .afeSilent: "AfeSilent"
        case .dischargeCutoff: "DischargeCutoff"
        case .temperatureSensor: "TempSensor"
        }
    }

    /// Number of faults; sizes the per-fault state arrays.
    public static let count = 18
}

/// A set of faults as the error flag word (`rErrorFlags`): bit n = `Fault(rawValue: n)`.
public struct FaultSet: Equatable, Sendable {
    public var flags: UInt32

    public init(flags: UInt32 = 0) { self.flags = flags }

    public func contains(_ fault: Fault) -> Bool { flags & fault.flag != 0 }
    public mutating func insert(_ fault: Fault) { flags |= fault.flag }
    public mutating func remove(_ fault: Fault) { flags &= ~fault.flag }
    public var isEmpty: Bool { flags == 0 }

    /// The union of the directions blocked by the faults in the set.
    public var blockedDirections: Directions {
        var blocked = Directions.none
        for fault in Fault.allCases where contains(fault) {
            blocked.formUnion(fault.blocks)
        }
        return blocked
    }
}

/// The names the event log, reports and tools use for faults, events and states: one table
/// each, as static strings (no allocation on the device).

extension Fault {
    /// snake_case: `cell_overvoltage`, `short_circuit`, …
    public var logName: StaticString {
        switch self {
        case .cellUndervoltage: "cell_undervoltage"
        case .cellOvervoltage: "cell_overvoltage"
        case .shortCircuit: "short_circuit"
        case .dischargeOvercurrent: "discharge_overcurrent"
        case .chargeOvercurrent: "charge_overcurrent"
        case .openWire: "open_wire"
        case .dischargeUndertemperature: "discharge_undertemperature"
        case .dischargeOvertemperature: "discharge_overtemperature"
        case .chargeUndertemperature: "charge_undertemperature"
        case .chargeOvertemperature: "charge_overtemperature"
        case .boardOvertemperature: "board_overtemperature"
        case .cellImbalance: "cell_imbalance"
        case .dischargeSwitchFailure: "discharge_switch_failure"
        case .chargeSwitchFailure: "charge_switch_failure"
        case .mosfetOvertemperature: "mosfet_overtemperature"
        case .afeSilent: "afe_silent"
        case .dischargeCutoff: "discharge_cutoff"
        case .temperatureSensor: "temperature_sensor"
        }
    }
}

extension Fault {
    /// Whether the event's index is a cell (else a sensor, or nothing).
    public var concernsCell: Bool {
        switch self {
        case .cellUndervoltage, .cellOvervoltage, .cellImbalance, .dischargeCutoff, .openWire: true
        default: false
        }
    }
}

extension BMSEventKind {
    /// trip, release, warning, warning_cleared, latch, latch_cleared, state, full, …
    public var logName: StaticString {
        switch self {
        case .trip: "trip"
        case .release: "release"
        case .warning: "warning"
        case .warningCleared: "warning_cleared"
        case .latch: "latch"
        case .latchCleared: "latch_cleared"
        case .stateChange: "state"
        case .full: "full"
        case .fullCleared: "full_cleared"
        case .configApplied: "config"
        case .paygWarning: "payg_warning"
        case .paygLocked: "payg_locked"
        case .paygUnlocked: "payg_unlocked"
        case .paygEntry: "payg_entry"
        case .chargerPresent: "charger_present"
        case .loadPresent: "load_present"
        case .currentZeroed: "current_zeroed"
        case .selfDischarge: "self_discharge"
        case .balancerFault: "balancer_fault"
        case .inverterSilent: "inverter_silent"
        case .inverterHeard: "inverter_heard"
        case .bankFault: "bank_fault"
        case .packJoined: "pack_joined"
        case .packLeft: "pack_left"
        }
    }
}

extension BMSState {
    /// OFF, CHG, DIS, NORMAL, SHUTDOWN as the Libre Solar app shows them.
    public var logName: StaticString {
        switch self {
        case .off: "OFF"
        case .chargeOnly: "CHG"
        case .dischargeOnly: "DIS"
        case .normal: "NORMAL"
        case .shutdown: "SHUTDOWN"
        }
    }
}

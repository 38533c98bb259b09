/// The switch state (`rBmsState`); raw values are the Libre Solar firmware's.
public enum BMSState: UInt8, Sendable {
    /// Both switches off.
    case off = 0
    /// Charging allowed, discharging not (the discharge switch may act as an ideal diode).
    case chargeOnly = 1
    /// Discharging allowed, charging not (the charge switch may act as an ideal diode).
    case dischargeOnly = 2
    /// Both allowed.
    case normal = 3
    /// Switched off for good until power-off (ship mode requested).
    case shutdown = 4
}

/// The commanded state of the two power switches (FETs, or a charge and a discharge
/// contactor / ATC-ATD relay pair).
public struct SwitchCommand: Equatable, Sendable {
    public var chargeOn: Bool
    public var dischargeOn: Bool

    public init(chargeOn: Bool, dischargeOn: Bool) {
        self.chargeOn = chargeOn
        self.dischargeOn = dischargeOn
    }

    public static var allOff: SwitchCommand { SwitchCommand(chargeOn: false, dischargeOn: false) }
}

/// The switch state machine: from what is allowed to the state and the switch commands.
///
/// The state follows the allowed directions at once (no intermediate cycles). In the
/// one-direction states the other switch acts as an *ideal diode*, as in the reference: in
/// `chargeOnly` the discharge switch closes while charge current of at least the on
/// threshold (`sIdealDiodeCurrent_A`) flows through its body diode, and opens again when the
/// current falls below the off threshold (a quarter of it); mirrored in `dischargeOnly`.
/// This spares the body diode the heat; current can flow in the forbidden direction only
/// within the cycle in which it reverses. (The reference uses 0.5 A / 0.1 A; the preset
/// scales the threshold to 0.02 C so that it stays clear of a large shunt's offset.)
public struct SwitchControl: Sendable {
    /// The off threshold as a fraction of the on threshold.
    public static var idealDiodeOffRatio: Float { 0.25 }

    public private(set) var state: BMSState = .off
    public private(set) var command: SwitchCommand = .allOff

    public init() {}

    /// Moves to the state given by the allowed directions and `current` (A, + = charging),
    /// with the ideal diode closing at `idealDiode` A. Returns `true` when the state changed.
    mutating func update(allowed: Directions, current: Float, idealDiode: Float) -> Bool {
        let onLevel = idealDiode, offLevel = idealDiode * Self.idealDiodeOffRatio
        guard state != .shutdown else {
            command = .allOff
            return false
        }
        let next: BMSState = switch (allowed.contains(.charge), allowed.contains(.discharge)) {
        case (true, true): .normal
        case (true, false): .chargeOnly
        case (false, true): .dischargeOnly
        case (false, false): .off
        }
        let changed = next != state
        let previous = command
        state = next
        switch next {
        case .normal:
            command = SwitchCommand(chargeOn: true, dischargeOn: true)
        case .off, .shutdown:
            command = .allOff
        case .chargeOnly:
            // Ideal diode on the discharge switch, with hysteresis; reset when entering.
            let wasOn = !changed && previous.dischargeOn
            let on = wasOn ? current > offLevel : current >= onLevel
            command = SwitchCommand(chargeOn: true, dischargeOn: on)
        case .dischargeOnly:
            let wasOn = !changed && previous.chargeOn
            let on = wasOn ? current < -offLevel : current <= -onLevel
            command = SwitchCommand(chargeOn: on, dischargeOn: true)
        }
        return changed
    }

    /// Enters `shutdown`: both switches off until power-off.
    mutating func shutdown() -> Bool {
        guard state != .shutdown else { return false }
        state = .shutdown
        command = .allOff
        return true
    }
}

/// What happened.
public enum BMSEventKind: UInt8, Sendable {
    /// A fault tripped (`fault`, `index`, `value` say which, where and how much).
    case trip = 0
    /// A fault released after its hysteresis and recovery delay.
    case release = 1
    /// A pre-alarm level was crossed.
    case warning = 2
    /// A pre-alarm cleared.
    case warningCleared = 3
    /// A fault latched: it stays until cleared by hand.
    case latch = 4
    /// Latched faults were cleared by the manual reset.
    case latchCleared = 5
    /// The switch state changed (`state` holds the new one).
    case stateChange = 6
    /// The pack reached full (charge target and tail current): charging stops.
    case full = 7
    /// The pack fell below the recharge level: charging allowed again.
    case fullCleared = 8
    /// A new configuration was applied.
    case configApplied = 9
    /// Pay-as-you-go: the credit runs out soon (or has run out and the grace period runs).
    case paygWarning = 10
    /// Pay-as-you-go: no credit and the grace period is over: discharge off.
    case paygLocked = 11
    /// Pay-as-you-go: credit again (or PAYG disabled): discharge allowed.
    case paygUnlocked = 12
    /// Pay-as-you-go: a token was entered. `index` is the outcome (`PAYGEntryOutcome`),
    /// `value` the token's value (0 unless accepted).
    case paygEntry = 13
    /// A charger at the terminals while the charge switch is open (the terminals stand above
    /// the stack): after the full cutoff, charging is allowed again.
    case chargerPresent = 14
    /// A load (or a short) at the terminals while the discharge switch is open.
    case loadPresent = 15
    /// The current sensor's zero was learned with both switches open (`value`: the correction
    /// on top of the stored `pCurrentOffset_A`, A). Once per open period.
    case currentZeroed = 16
    /// A cell judged self-discharging from the balancing pattern (`index` the cell, `value`
    /// its extra self-discharge, Ah/day); see `SelfDischargeMonitor`.
    case selfDischarge = 17
    /// The active-balancer board reported a fault (`value`: `ActiveBalancerFaults` bits;
    /// `index`: the lowest faulted cell, if any): it is commanded off until it reports none.
    case balancerFault = 18
    /// The inverter's keep-alive (CAN 0x305) has not been heard for the configured time
    /// (`value`: that time, s). The battery keeps sending its frames.
    case inverterSilent = 19
    /// The inverter's keep-alive heard: the first one, or the first after a silence.
    case inverterHeard = 20
    /// Another pack of the bank reports a fault (`fault`; `index` its cell or sensor, if it
    /// names one; `value` the pack's node address). Logged by the leader.
    case bankFault = 21
    /// A pack joined the bank (was first heard) or left it (not heard for the roster's
    /// timeout); `value` its node address. Logged by the leader.
    case packJoined = 22
    case packLeft = 23
}

/// One entry of the event stream that the firmware publishes and logs.
public struct BMSEvent: Sendable {
    public var kind: BMSEventKind
    /// Fault events: the timestamp of the sample that decided them. Other events (and
    /// `afeSilent`, which is about the clock): the time of the step.
    public var time: Timestamp
    public var fault: Fault?
    /// Cell or sensor index (0-based) the event is about, if any.
    public var index: UInt8?
    /// The deciding value (V, A or °C depending on the fault), or 0.
    public var value: Float
    /// The switch state at the end of the step that raised the event.
    public var state: BMSState

    public init(kind: BMSEventKind, time: Timestamp, fault: Fault? = nil, index: UInt8? = nil,
                value: Float = 0, state: BMSState) {
        self.kind = kind
        self.time = time
        self.fault = fault
        self.index = index
        self.value = value
        self.state = state
    }
}

/// The events of the last steps not yet taken by the caller. Holds 64; when the caller falls
/// behind, newer events are counted in `dropped` rather than overwriting unread ones.
public typealias EventQueue = FixedList<64, BMSEvent>

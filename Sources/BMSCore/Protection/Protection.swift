/// Per-fault bookkeeping: delay timers, trip time and recent trips for latching.
struct FaultState {
    var tripTimerStart: Timestamp?
    var warnTimerStart: Timestamp?
    var trippedAt = Timestamp.zero
    /// Set by a manual reset, consumed by the next update: the fault releases if its trip
    /// condition is gone, without waiting for its hysteresis or recovery delay.
    var resetRequested = false
    /// Times of the most recent trips, newest last, for "latch after N within a window".
    var recentTrips = FixedList<16, Timestamp>()
    /// The cell or sensor (0-based) of the last trip, when the fault concerns one.
    var location: UInt8?
}

/// The protection: turns measurements into active faults and pre-alarms, with delays counted
/// in elapsed time, release hysteresis and the recovery policy of each fault.
///
/// Timing: a condition seen first in the sample taken at `t0` trips at the first sample whose
/// timestamp is at least `t0 + delay`; one sample without the condition restarts the delay.
/// A delay of 0 trips on the first sample. Because timestamps are used, not sample counts,
/// irregular cycles do not stretch or shorten delays.
public struct Protection: Sendable {
    var states: InlineArray<18, FaultState>
    /// Faults in force.
    public private(set) var active = FaultSet()
    /// Pre-alarms in force.
    public private(set) var warnings = FaultSet()
    /// Faults that latched: they stay active until the manual `reset()`.
    public private(set) var latched = FaultSet()
    /// The fault that tripped last, whether or not it is still in force.
    public private(set) var lastTripped: Fault?

    public init() {
        // Built in a loop: `InlineArray(repeating:)` of this 18-element array of lists was
        // unrolled into 5 kB of stores on ARMv6-M.
        states = InlineArray { _ in FaultState() }
    }

    /// The cell (voltage faults) or sensor (temperature faults) of `fault`'s last trip,
    /// 0-based; nil when it names none.
    public func location(of fault: Fault) -> UInt8? { states[Int(fault.rawValue)].location }

    /// Updates every fault from `measurement`, evaluated at `now`, and appends what changed
    /// to `events`. When the measurement is older than the timeout only `afeSilent` is
    /// evaluated: a stale sample must neither trip nor release anything else. Returns the
    /// summary of a fresh measurement (for the other consumers of the step), `nil` if stale.
    mutating func update(_ measurement: Measurement, now: Timestamp, config: BMSConfig,
                         commanded: SwitchCommand, state: BMSState,
                         events: inout EventQueue) -> MeasurementSummary? {
        // A sample stamped a little after `now` (the AFE and the step read the clock at
        // different moments) wraps to a huge age: count anything in the upper half as fresh.
        let wrapped = now.milliseconds(since: measurement.timestamp)
        let age = wrapped >= 0x8000_0000 ? 0 : wrapped
        let stale = age > config.plausibility.measurementTimeoutMs
        var silent = FaultCheck.present(stale, value: Float(age))
        silent.release = !stale
        apply(silent, to: .afeSilent, at: now, config: config, state: state, events: &events)
        guard !stale else { return nil }

        var pruned: UInt8 = 0
        while let fault = Fault(rawValue: pruned) {
            pruned += 1
            if states[Int(fault.rawValue)].recentTrips.count > 0 {
                forgetTrips(of: fault, before: measurement.timestamp,
                            windowMs: config.recovery[fault].windowSeconds &* 1000)
            }
        }
        let summary = MeasurementSummary(measurement, config: config)
        var raw: UInt8 = 0
        while let fault = Fault(rawValue: raw) {
            raw += 1
            if fault == .afeSilent { continue }
            let check = fault.check(measurement, summary, config, commanded: commanded)
            apply(check, to: fault, at: measurement.timestamp, config: config,
                  state: state, events: &events)
        }
        return summary
    }

    private mutating func apply(_ check: FaultCheck, to fault: Fault, at time: Timestamp,
                                config: BMSConfig, state: BMSState, events: inout EventQueue) {
        let i = Int(fault.rawValue)
        let delay = fault.tripDelayMs(config)
        func event(_ kind: BMSEventKind) -> BMSEvent {
            BMSEvent(kind: kind, time: time, fault: fault, index: check.index, value: check.value,
                     state: state)
        }

        if active.contains(fault) {
            states[i].tripTimerStart = nil
            let policy = config.recovery[fault]
            let waited = time.milliseconds(since: states[i].trippedAt)
            let recoveryMs = fault.hasRecoveryPolicy ? policy.delaySeconds &* 1000 : 0
            let recovered = check.release && waited >= recoveryMs
            let reset = states[i].resetRequested && !check.trip
            if !latched.contains(fault) && (recovered || reset) {
                active.remove(fault)
                events.append(event(.release))
            }
        } else if check.trip {
            let start = states[i].tripTimerStart ?? time
            states[i].tripTimerStart = start
            if check.immediate || time.milliseconds(since: start) >= delay {
                trip(fault, at: time, config: config)
                states[i].location = check.index
                lastTripped = fault
                events.append(event(.trip))
                if latched.contains(fault) { events.append(event(.latch)) }
            }
        } else {
            states[i].tripTimerStart = nil
        }

        states[i].resetRequested = false

        // Pre-alarms: same delay as the trip; shown only while the fault itself is not.
        if warnings.contains(fault) {
            if check.warnClear || active.contains(fault) {
                warnings.remove(fault)
                states[i].warnTimerStart = nil
                if !active.contains(fault) { events.append(event(.warningCleared)) }
            }
        } else if check.warn && !active.contains(fault) {
            let start = states[i].warnTimerStart ?? time
            states[i].warnTimerStart = start
            if time.milliseconds(since: start) >= delay {
                warnings.insert(fault)
                events.append(event(.warning))
            }
        } else {
            states[i].warnTimerStart = nil
        }
    }

    private mutating func trip(_ fault: Fault, at time: Timestamp, config: BMSConfig) {
        let i = Int(fault.rawValue)
        active.insert(fault)
        states[i].trippedAt = time
        states[i].tripTimerStart = nil
        guard fault.hasRecoveryPolicy else { return }
        let policy = config.recovery[fault]
        guard policy.latchAfter > 0 else { return }
        forgetTrips(of: fault, before: time, windowMs: policy.windowSeconds &* 1000)
        if states[i].recentTrips.isFull { _ = states[i].recentTrips.removeFirst() }
        states[i].recentTrips.append(time)
        if states[i].recentTrips.count >= Int(policy.latchAfter) {
            latched.insert(fault)
        }
    }

    /// Drops the remembered trips of `fault` that are older than the window, so that the
    /// list only ever holds trips within it (and a 32-bit time difference never wraps).
    private mutating func forgetTrips(of fault: Fault, before time: Timestamp, windowMs: UInt32) {
        let i = Int(fault.rawValue)
        while states[i].recentTrips.count > 0,
              time.milliseconds(since: states[i].recentTrips[0]) > windowMs {
            _ = states[i].recentTrips.removeFirst()
        }
    }

    /// The manual reset: unlatches every latched fault and forgets its trip history, and
    /// lets every active fault whose trip condition is gone release at the next update, even
    /// before its hysteresis or recovery delay. A fault whose condition is still present stays
    /// (a reset never switches onto a cell that is beyond its limit). This is how a pack
    /// stopped by the full cutoff is brought back: once its cells have rested above the full
    /// cutoff, a reset releases it and the discharge cutoff keeps only charging allowed.
    /// Returns whether anything was latched.
    mutating func reset() -> Bool {
        let wasLatched = !latched.isEmpty
        var raw: UInt8 = 0
        while let fault = Fault(rawValue: raw) {
            raw += 1
            let i = Int(fault.rawValue)
            if latched.contains(fault) { states[i].recentTrips.removeAll() }
            if active.contains(fault) { states[i].resetRequested = true }
        }
        latched = FaultSet()
        return wasLatched
    }
}

/// End-of-charge detection ("full"), which the reference firmware never sets.
///
/// The pack is full when either
/// - the highest cell is at or above the charge target while |current| is at or below the
///   tail current for `fullDelaySeconds` (the CV phase has tapered off, or the charger has
///   stopped): the normal end of a charge; or
/// - the highest cell has run past the charge target to the *run-away level*, halfway to the
///   over-voltage trip, for the over-voltage delay: one cell of an unbalanced pack (a weak
///   second-life cell above all) reaches its end while the pack voltage, which is what the
///   charger regulates, is still low. Stopping there ends the charge before the protection
///   has to trip. (3.675 V for the LFP preset, 4.225 V for NMC.)
/// An over-voltage trip marks the pack full too, so that charging resumes only below the
/// recharge level and not at the (higher) over-voltage release, which would let a charger
/// that ignores the BMS micro-cycle the highest cell around its trip.
/// Cleared when the highest cell falls below the recharge level. Full blocks charging; it is
/// a normal state, not a fault, and later feeds SOC recalibration.
public struct FullDetector: Sendable {
    public private(set) var isFull = false
    var tailSince: Timestamp?
    var runAwaySince: Timestamp?

    public init() {}

    /// The run-away level of `config`: halfway between the charge target and the
    /// over-voltage trip, V.
    public static func runAwayLevel(_ config: BMSConfig) -> Float {
        (config.cellVoltage.chargeTarget + config.cellVoltage.overvoltage) / 2
    }

    /// Marks the pack full at once (an over-voltage trip: the highest cell is past full
    /// whatever the current). Returns `.full` when that is news.
    mutating func markFull() -> BMSEventKind? {
        tailSince = nil
        runAwaySince = nil
        guard !isFull else { return nil }
        isFull = true
        return .full
    }

    /// Returns the event kind when `isFull` changed.
    mutating func update(maxCell: Float, current: Float, at time: Timestamp,
                         config: BMSConfig) -> BMSEventKind? {
        let c = config.cellVoltage
        if isFull {
            if maxCell < c.recharge {
                isFull = false
                return .fullCleared
            }
            return nil
        }
        let tail = config.current.fullTailCurrent
        let tapered = maxCell >= c.chargeTarget && current <= tail && current >= -tail
        let runningAway = maxCell >= FullDetector.runAwayLevel(config)
        let tailDone = FullDetector.held(tapered, since: &tailSince, at: time,
                                         forMs: config.current.fullDelaySeconds &* 1000)
        let ranAway = FullDetector.held(runningAway, since: &runAwaySince, at: time,
                                        forMs: c.overvoltageDelayMs)
        if tailDone || ranAway {
            return markFull()
        }
        return nil
    }

    /// Whether `condition` has held for `forMs` (timer in `since`, restarted when it fails).
    private static func held(_ condition: Bool, since: inout Timestamp?, at time: Timestamp,
                             forMs: UInt32) -> Bool {
        guard condition else {
            since = nil
            return false
        }
        let start = since ?? time
        since = start
        return time.milliseconds(since: start) >= forMs
    }
}

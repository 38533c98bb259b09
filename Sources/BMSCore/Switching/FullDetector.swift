/// End-of-charge detection ("full"), which the reference firmware never sets.
///
/// Full when the highest cell is at or above the charge target while |current| is at or below
/// the tail current (CV phase tapered off, or charger stopped) for `fullDelaySeconds`.
/// An over-voltage trip marks the pack full too, so that charging resumes only below the
/// recharge level and not at the (higher) over-voltage release, which would let a charger
/// that ignores the BMS micro-cycle the highest cell around its trip.
/// Cleared when the highest cell falls below the recharge level. Full blocks charging; it is
/// a normal state, not a fault, and later feeds SOC recalibration.
public struct FullDetector: Sendable {
    public private(set) var isFull = false
    var conditionSince: Timestamp?

    public init() {}

    /// Marks the pack full at once (an over-voltage trip: the highest cell is past full
    /// whatever the current). Returns `.full` when that is news.
    mutating func markFull() -> BMSEventKind? {
        conditionSince = nil
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
        guard maxCell >= c.chargeTarget && current <= tail && current >= -tail else {
            conditionSince = nil
            return nil
        }
        let since = conditionSince ?? time
        conditionSince = since
        if time.milliseconds(since: since) >= config.current.fullDelaySeconds &* 1000 {
            isFull = true
            conditionSince = nil
            return .full
        }
        return nil
    }
}

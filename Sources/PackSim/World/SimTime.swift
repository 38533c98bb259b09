import BMSCore

/// Simulated time: milliseconds since the start of the run, which begins at `startOfDay`
/// seconds after midnight (06:00 by default, like the ground-truth data).
public struct SimTime: Sendable, Equatable {
    public var milliseconds: UInt64
    public var startOfDaySeconds: UInt32

    public init(milliseconds: UInt64, startOfDaySeconds: UInt32 = 6 * 3600) {
        self.milliseconds = milliseconds
        self.startOfDaySeconds = startOfDaySeconds
    }

    /// Seconds since the start, as Float (precise to the ms for about 4.6 h, to 2 s after a
    /// year: use `milliseconds` for arithmetic, this for display).
    public var seconds: Float { Float(milliseconds / 1000) + Float(milliseconds % 1000) / 1000 }

    /// Local time of day, s (0 ..< 86 400).
    public var secondsOfDay: Float {
        let ms = (milliseconds + UInt64(startOfDaySeconds) * 1000) % 86_400_000
        return Float(UInt32(ms)) / 1000
    }

    /// Day number since midnight before the start (0 on the first day).
    public var day: UInt64 { (milliseconds / 1000 + UInt64(startOfDaySeconds)) / 86_400 }

    /// The BMS clock: uptime in ms, wrapping every 49.7 days like the device's.
    public var bmsTimestamp: Timestamp { Timestamp(milliseconds: UInt32(truncatingIfNeeded: milliseconds)) }
}

/// A point on the device's monotonic uptime clock, in milliseconds.
///
/// The counter is 32 bits and wraps after 49.7 days; differences are taken with wrapping
/// arithmetic, so any interval shorter than that is measured correctly across the wrap.
/// BMSCore never reads a clock itself: the caller passes the time in.
public struct Timestamp: Equatable, Sendable {
    /// Milliseconds since an arbitrary origin (usually boot).
    public var milliseconds: UInt32

    public init(milliseconds: UInt32) {
        self.milliseconds = milliseconds
    }

    /// Milliseconds from `earlier` to `self` (wrapping; correct for intervals < 49.7 days).
    @inlinable
    public func milliseconds(since earlier: Timestamp) -> UInt32 {
        milliseconds &- earlier.milliseconds
    }

    /// `self` moved forward by `ms` milliseconds (wrapping).
    @inlinable
    public func advanced(byMilliseconds ms: UInt32) -> Timestamp {
        Timestamp(milliseconds: milliseconds &+ ms)
    }

    public static var zero: Timestamp { Timestamp(milliseconds: 0) }
}

/// Which current directions something concerns. Current is positive when charging.
///
/// The constants are computed properties, not stored `static let`s: a stored global that is
/// not a plain literal is initialised lazily through `swift_once`, which needs atomics that
/// ARMv6-M lacks (the same holds for the other option sets and constants of BMSCore).
public struct Directions: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Current flowing into the pack (positive current).
    public static var charge: Directions { Directions(rawValue: 1) }
    /// Current flowing out of the pack (negative current).
    public static var discharge: Directions { Directions(rawValue: 2) }
    public static var both: Directions { Directions(rawValue: 3) }
    public static var none: Directions { Directions(rawValue: 0) }
}

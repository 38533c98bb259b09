/// Which current directions something concerns. Current is positive when charging.
public struct Directions: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Current flowing into the pack (positive current).
    public static let charge = Directions(rawValue: 1)
    /// Current flowing out of the pack (negative current).
    public static let discharge = Directions(rawValue: 2)
    public static let both: Directions = [.charge, .discharge]
    public static let none: Directions = []
}

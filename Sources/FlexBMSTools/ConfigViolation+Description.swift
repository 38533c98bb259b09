import BMSCore

extension ConfigViolation: CustomStringConvertible {
    /// One line naming the field, its value and the rule, e.g.
    /// `sCellOvervoltageReset_V = 3.9 must be below sCellOvervoltage_V = 3.8`.
    public var description: String {
        let head = "\(field.name) = \(format(value))"
        switch rule {
        case .outOfRange:
            return "\(head) is outside the allowed range \(format(lowerBound))…\(format(upperBound))"
        case .mustBeBelow:
            return "\(head) must be below \(other?.name ?? "the limit") = \(format(limit))"
        default:
            let against = switch (rule, other) {
            case (.aboveChemistryMaximum, _): " (limit \(format(limit)) V)"
            case (_, let other?): " (\(other.name): \(format(limit)))"
            case (_, nil): " (limit \(format(limit)))"
            }
            return "\(head): \(rule.reason)\(against)"
        }
    }
}

/// Shortest text that reads back as the same Float (whole numbers without ".0").
public func format(_ x: Float) -> String {
    x == x.rounded() && abs(x) < 1e7 ? String(Int(x)) : "\(x)"
}

import Foundation
import BMSCore

extension ConfigField {
    /// The field's full name as used in files and on ThingSet, e.g. `sCellOvervoltage_V`.
    public var name: String {
        if case .ocvPoint(let k) = self { return "\(ConfigField.ocvTableName)[\(k.index)]" }
        let (a, b, c) = nameParts
        return "\(a)\(b)\(c)"
    }

    /// The OCV table's name: one array of 21 volts in files (SOC 100 % first); a single point
    /// is `sOcvPoints_V[k]`.
    public static let ocvTableName = "sOcvPoints_V"

    /// Whether the field is a point of the OCV table.
    public var isOCVPoint: Bool {
        if case .ocvPoint = self { return true }
        return false
    }

    /// Every field, in file order.
    public static var all: [ConfigField] {
        var fields: [ConfigField] = []
        forEach { fields.append($0) }
        return fields
    }

    /// The field called `name`, if any.
    public init?(name: String) {
        guard let field = ConfigField.byName[name] else { return nil }
        self = field
    }

    private static let byName: [String: ConfigField] = {
        var map: [String: ConfigField] = [:]
        for field in all { map[field.name] = field }
        return map
    }()

    /// The closest known name to `name` (for "did you mean" hints), if one is near enough.
    static func suggestion(for name: String) -> String? {
        let target = Array(name.lowercased())
        var best: (String, Int)?
        for field in all {
            let candidate = field.name
            let d = editDistance(target, Array(candidate.lowercased()))
            if d <= max(2, target.count / 4), d < (best?.1 ?? .max) { best = (candidate, d) }
        }
        return best?.0
    }
}

extension Chemistry {
    /// Parses `LFP`, `nmc`, … (case-insensitive).
    public init?(name: String) {
        guard let match = Chemistry.allCases.first(where: {
            "\($0.name)".caseInsensitiveCompare(name) == .orderedSame
        }) else { return nil }
        self = match
    }
}

/// Levenshtein distance, small inputs only.
func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1,
                             previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}


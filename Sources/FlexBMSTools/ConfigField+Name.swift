import Foundation
import BMSCore

extension ConfigField {
    /// The field's full name as used in files and on ThingSet, e.g. `sCellOvervoltage_V`.
    public var name: String {
        if let (array, k) = arrayElement { return "\(array.name)[\(k)]" }
        let (a, b, c) = nameParts
        return "\(a)\(b)\(c)"
    }

    /// The OCV table's name: one array of 21 volts in files (SOC 100 % first); a single point
    /// is `sOcvPoints_V[k]`.
    public static let ocvTableName = "sOcvPoints_V"

    /// The array this field is an element of (`sOcvPoints_V`, the per-cell and per-sensor
    /// calibration) and its index, or `nil` for a field of its own.
    public var arrayElement: (ArraySetting, Int)? {
        switch self {
        case .ocvPoint(let k): (.ocvTable, k.index)
        case .cellVoltageGain(let k): (.cellVoltageGain, k.index)
        case .cellVoltageOffset(let k): (.cellVoltageOffset, k.index)
        case .thermistorOffset(let k): (.thermistorOffset, k.index)
        default: nil
        }
    }

    /// Whether the field is part of the measurement calibration (the `p` items): not taken
    /// from a preset, and never required in a file (identity when left out).
    public var isCalibration: Bool {
        switch self {
        case .currentGain, .currentOffset, .cellVoltageGain, .cellVoltageOffset, .thermistorOffset: true
        default: false
        }
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
        for candidate in all.filter({ $0.arrayElement == nil }).map(\.name) + ArraySetting.all.map(\.name) {
            let d = editDistance(target, Array(candidate.lowercased()))
            if d <= max(2, target.count / 4), d < (best?.1 ?? .max) { best = (candidate, d) }
        }
        return best?.0
    }
}

/// A setting that files hold as one JSON array of numbers, each element a `ConfigField`.
public struct ArraySetting: Sendable {
    public let name: String
    public let count: Int
    /// Whether `null` stands for "none" (all elements 0): the OCV table.
    public let nullable: Bool
    /// Whether the file lists it only when it differs from its default.
    public let omittedWhenDefault: Bool
    let element: @Sendable (Int) -> ConfigField
    /// What the array must look like, for error messages.
    public let shape: String

    public func field(_ index: Int) -> ConfigField { element(index) }

    public static let ocvTable = ArraySetting(
        name: ConfigField.ocvTableName, count: 21, nullable: true, omittedWhenDefault: true,
        element: { .ocvPoint(.at($0)) },
        shape: "an array of 21 volts from SOC 100 % down to 0 %, or null for none")
    public static let cellVoltageGain = ArraySetting(
        name: "pCellVoltageGain", count: 16, nullable: false, omittedWhenDefault: false,
        element: { .cellVoltageGain(.at($0)) }, shape: "an array of 16 gains, cell 1 first")
    public static let cellVoltageOffset = ArraySetting(
        name: "pCellVoltageOffset_V", count: 16, nullable: false, omittedWhenDefault: false,
        element: { .cellVoltageOffset(.at($0)) }, shape: "an array of 16 offsets in volts, cell 1 first")
    public static let thermistorOffset = ArraySetting(
        name: "pThermistorOffset_K", count: 8, nullable: false, omittedWhenDefault: false,
        element: { .thermistorOffset(.at($0)) }, shape: "an array of 8 offsets in kelvin, sensor 1 first")

    public static let all: [ArraySetting] = [.ocvTable, .cellVoltageGain, .cellVoltageOffset, .thermistorOffset]

    public static func named(_ name: String) -> ArraySetting? { all.first { $0.name == name } }
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


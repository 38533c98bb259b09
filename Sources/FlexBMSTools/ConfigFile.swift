import BMSCore
import FlexBMSLink
import Foundation

/// Reading and writing configuration files: a JSON object whose keys are the ThingSet names
/// of the `Conf` items (`sCellOvervoltage_V`, …), the enable inputs `wChgEnable` and
/// `wDisEnable`, `sCellChemistry` as a string, the optional OCV table `sOcvPoints_V` as
/// an array of 21 volts from SOC 100 % down to 0 % (absent or null: none, the chemistry's
/// preset curve is used), and the board's calibration (`pCurrentGain`, `pCurrentOffset_A`,
/// the arrays `pCellVoltageGain`, `pCellVoltageOffset_V` and `pThermistorOffset_K`; absent:
/// no correction).
///
/// A file may be partial: keys it leaves out take the preset of the file's chemistry,
/// series cell count and capacity (which must then be given), so a field engineer can write
/// only what differs from the preset. A `custom` chemistry has no preset, so its file must
/// list every key.
public enum ConfigFile {
    /// Parses `data` into a configuration. Does not validate the values against each other:
    /// call `validate()` on the result.
    public static func decode(_ data: Data) throws(ConfigFileError) -> DecodedConfig {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw .notJSON(detail(of: error))
        }
        guard case .object(let object) = root else { throw .notAnObject }

        var values: [(ConfigField, ConfigValue)] = []
        for key in object.keys.sorted() {
            if let array = ArraySetting.named(key) {
                values += try elements(of: array, object[key]!)
                continue
            }
            guard let field = ConfigField(name: key) else {
                throw .unknownKey(key, suggestion: ConfigField.suggestion(for: key))
            }
            values.append((field, try value(object[key]!, for: field, key: key)))
        }
        func given(_ field: ConfigField) -> ConfigValue? {
            values.first(where: { $0.0 == field })?.1
        }

        let chemistry: Chemistry
        if case .chemistry(let c)? = given(.chemistry) { chemistry = c } else {
            throw .missingKeys([ConfigField.chemistry.name], reason: "it selects the preset")
        }
        var base: BMSConfig
        var fromPreset: [ConfigField] = []
        if chemistry == .custom {
            let missing = ConfigField.all.filter { $0.arrayElement == nil && !$0.isCalibration && given($0) == nil }.map(\.name)
            guard missing.isEmpty else {
                throw .missingKeys(missing, reason: "a custom chemistry has no preset to fill them from")
            }
            // Every field is set below; the preset only provides storage.
            base = BMSConfig.preset(.lfp, cells: 16, capacityAh: 100)!
        } else {
            guard case .unsigned(let cells)? = given(.seriesCellCount),
                  case .float(let capacity)? = given(.nominalCapacity) else {
                let missing = [ConfigField.seriesCellCount, .nominalCapacity]
                    .filter { given($0) == nil }.map(\.name)
                throw .missingKeys(missing, reason: "the preset is computed from them")
            }
            var parallel: UInt32 = 1
            if case .unsigned(let p)? = given(.parallelCellCount) { parallel = p }
            var boardMaximum = BMSConfig.defaultBoardMaximumCurrent
            if case .float(let b)? = given(.boardMaximumCurrent) { boardMaximum = b }
            base = BMSConfig.preset(chemistry, cells: UInt8(clamping: cells), capacityAh: capacity,
                                    parallelCells: UInt8(clamping: parallel),
                                    boardMaximumCurrent: boardMaximum)!
            fromPreset = ConfigField.all.filter { $0.arrayElement == nil && !$0.isCalibration && given($0) == nil }
        }
        for (field, value) in values {
            do {
                try base.set(field, to: value)
            } catch {
                throw ConfigFileError(error, key: field.name)
            }
        }
        return DecodedConfig(config: base, fromPreset: fromPreset)
    }

    /// Reads and parses the file at `path`.
    public static func read(path: String) throws(ConfigFileError) -> DecodedConfig {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path: path, detail(of: error))
        }
        return try decode(data)
    }

    /// The configuration as a JSON object, one key per line in a fixed order.
    public static func encode(_ config: BMSConfig) -> String {
        var lines = ConfigField.all.filter { $0.arrayElement == nil }.map { field in
            "  \"\(field.name)\": \(text(of: config.value(of: field)))"
        }
        for array in ArraySetting.all {
            if array.omittedWhenDefault && !(0..<array.count).contains(where: { config.number(array.field($0)) != 0 }) {
                continue
            }
            let items = (0..<array.count).map { text(of: config.value(of: array.field($0))) }
            lines.append("  \"\(array.name)\": [" + items.joined(separator: ", ") + "]")
        }
        return "{\n" + lines.joined(separator: ",\n") + "\n}\n"
    }

    /// Writes `config` to `path` atomically (a temporary file renamed over the old one), so a
    /// crash or full disk never leaves a half-written file behind.
    public static func write(_ config: BMSConfig, to path: String) throws(ConfigFileError) {
        do {
            try Data(encode(config).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .unwritable(path: path, detail(of: error))
        }
    }

    /// Sets the field called `name` from its text form as typed on a command line
    /// (`3.65`, `true`, `LFP`), checking name and kind as a file would.
    public static func set(_ name: String, text: String, in config: inout BMSConfig) throws(ConfigFileError) {
        if let array = ArraySetting.named(name) {
            let raw: JSONValue
            do {
                raw = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
            } catch {
                throw .wrongType(key: name, expected: array.shape, got: "\"\(text)\"")
            }
            for (field, value) in try elements(of: array, raw) {
                do { try config.set(field, to: value) } catch { throw ConfigFileError(error, key: field.name) }
            }
            return
        }
        guard let field = ConfigField(name: name) else {
            throw .unknownKey(name, suggestion: ConfigField.suggestion(for: name))
        }
        let raw: JSONValue
        if let parsed = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) {
            raw = parsed
        } else {
            raw = .string(text)
        }
        let parsed = try value(raw, for: field, key: name)
        do {
            try config.set(field, to: parsed)
        } catch {
            throw ConfigFileError(error, key: name)
        }
    }

    static func text(of value: ConfigValue) -> String {
        switch value {
        case .float(let x): x.isFinite ? format(x) : "null"
        case .unsigned(let n): "\(n)"
        case .bool(let b): b ? "true" : "false"
        case .chemistry(let c): "\"\(c.name)\""
        }
    }

    private static func value(_ raw: JSONValue, for field: ConfigField, key: String) throws(ConfigFileError) -> ConfigValue {
        switch (field.kind, raw) {
        case (.bool, .bool(let b)):
            return .bool(b)
        case (.bool, _):
            throw .wrongType(key: key, expected: "true or false", got: raw.summary)
        case (.chemistry, .string(let name)):
            guard let chemistry = Chemistry(name: name) else { throw .unknownChemistry(name) }
            return .chemistry(chemistry)
        case (.chemistry, _):
            throw .wrongType(key: key, expected: "a chemistry name", got: raw.summary)
        case (.float, .number(let x)):
            guard x.isFinite, abs(x) <= Double(Float.greatestFiniteMagnitude) else {
                throw .notRepresentable(key: key, value: raw.summary, expected: "a finite 32-bit float")
            }
            return .float(Float(x))
        case (.float, _):
            throw .wrongType(key: key, expected: "a number", got: raw.summary)
        case (.uint8, .number(let x)), (.uint32, .number(let x)):
            let maximum: Double = field.kind == .uint8 ? 255 : 4_294_967_295
            guard x >= 0, x <= maximum, x.rounded() == x else {
                throw .notRepresentable(key: key, value: raw.summary,
                                        expected: "a whole number from 0 to \(Int(maximum))")
            }
            return .unsigned(UInt32(x))
        case (.uint8, _), (.uint32, _):
            throw .wrongType(key: key, expected: "a whole number", got: raw.summary)
        }
    }

    /// The elements of an array setting (the OCV table's null: none, all points 0).
    private static func elements(of array: ArraySetting, _ raw: JSONValue) throws(ConfigFileError) -> [(ConfigField, ConfigValue)] {
        if array.nullable, case .null = raw { return (0..<array.count).map { (array.field($0), .float(0)) } }
        guard case .array(let items) = raw, items.count == array.count else {
            throw .wrongType(key: array.name, expected: array.shape, got: raw.summary)
        }
        var values: [(ConfigField, ConfigValue)] = []
        for (k, item) in items.enumerated() {
            let field = array.field(k)
            values.append((field, try value(item, for: field, key: field.name)))
        }
        return values
    }

    private static func detail(of error: Error) -> String {
        let text = (error as NSError).localizedDescription
        return text.isEmpty ? "\(error)" : text
    }
}

/// A parsed configuration file.
public struct DecodedConfig {
    public var config: BMSConfig
    /// Fields the file left out, taken from the preset.
    public var fromPreset: [ConfigField]
}

/// Why a configuration file could not be read. The description names the key and the value.
public enum ConfigFileError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, String)
    case unwritable(path: String, String)
    case notJSON(String)
    case notAnObject
    case unknownKey(String, suggestion: String?)
    case unknownChemistry(String)
    case missingKeys([String], reason: String)
    case wrongType(key: String, expected: String, got: String)
    case notRepresentable(key: String, value: String, expected: String)

    init(_ error: ConfigError, key: String) {
        switch error {
        case .wrongType: self = .wrongType(key: key, expected: "another kind of value", got: "this")
        case .notRepresentable(_, let x):
            self = .notRepresentable(key: key, value: "\(x)", expected: "a value that fits the field")
        case .invalid:  // set() judges one field at a time and never reports .invalid
            self = .notRepresentable(key: key, value: "this value", expected: "valid")
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let path, let why): "cannot read \(path): \(why)"
        case .unwritable(let path, let why): "cannot write \(path): \(why)"
        case .notJSON(let why): "not valid JSON: \(why)"
        case .notAnObject: "the file must hold one JSON object of settings, e.g. {\"sCellChemistry\": \"LFP\", ...}"
        case .unknownKey(let key, let suggestion):
            "unknown setting \"\(key)\"" + (suggestion.map { " (did you mean \"\($0)\"?)" } ?? "")
        case .unknownChemistry(let name):
            "unknown chemistry \"\(name)\"; use one of " + Chemistry.allCases.map { "\($0.name)" }.joined(separator: ", ")
        case .missingKeys(let keys, let reason):
            "missing " + keys.joined(separator: ", ") + " (\(reason))"
        case .wrongType(let key, let expected, let got): "\(key): expected \(expected), got \(got)"
        case .notRepresentable(let key, let value, let expected): "\(key): \(value) is not \(expected)"
        }
    }
}

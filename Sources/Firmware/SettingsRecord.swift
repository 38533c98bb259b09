import BMSCore

/// The settings record: every configuration field as (storage key, 32-bit value), so a record
/// written by one firmware version loads into another (unknown keys are skipped, missing ones
/// keep their defaults) and a field that fails its range check rejects the whole record.
public enum SettingsRecord {
    /// The format of the payload; a change of layout (not of fields) bumps it.
    public static let version: UInt8 = 1
    /// Bytes the payload needs at most: 6 per field.
    public static let capacity = 1024

    /// Encodes `config` into `buffer`; returns the byte count (0 if it does not fit).
    public static func encode(_ config: BMSConfig, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var writer = Writer(buffer: buffer)
        ConfigField.forEach { field in
            let raw: UInt32
            switch config.value(of: field) {
            case .float(let f): raw = f.bitPattern
            case .unsigned(let u): raw = u
            case .bool(let b): raw = b ? 1 : 0
            case .chemistry(let c): raw = UInt32(c.rawValue)
            }
            writer.entry(field.storageKey, raw)
        }
        return writer.overflow ? 0 : writer.count
    }

    /// The configuration in `bytes` applied over `defaults`, validated.
    public static func decode(_ bytes: UnsafeRawBufferPointer, over defaults: BMSConfig) -> BMSConfig? {
        guard bytes.count % 6 == 0 else { return nil }
        var config = defaults
        var k = 0
        while k < bytes.count {
            let key = UInt16(bytes[k]) | UInt16(bytes[k + 1]) << 8
            var raw: UInt32 = 0
            for j in 0..<4 { raw |= UInt32(bytes[k + 2 + j]) << UInt32(8 * j) }
            k += 6
            guard let field = ConfigField(storageKey: key) else { continue }
            let value: ConfigValue
            switch field.kind {
            case .float: value = .float(Float(bitPattern: raw))
            case .uint8, .uint32: value = .unsigned(raw)
            case .bool: value = .bool(raw != 0)
            case .chemistry:
                guard raw <= 0xFF, let c = Chemistry(rawValue: UInt8(raw)) else { return nil }
                value = .chemistry(c)
            }
            guard (try? config.set(field, to: value)) != nil else { return nil }
        }
        return config.validate().count == 0 ? config : nil
    }

    struct Writer {
        let buffer: UnsafeMutableRawBufferPointer
        var count = 0
        var overflow = false

        mutating func entry(_ key: UInt16, _ value: UInt32) {
            guard count + 6 <= buffer.count else { overflow = true; return }
            buffer[count] = UInt8(truncatingIfNeeded: key)
            buffer[count + 1] = UInt8(truncatingIfNeeded: key >> 8)
            for j in 0..<4 { buffer[count + 2 + j] = UInt8(truncatingIfNeeded: value >> UInt32(8 * j)) }
            count += 6
        }
    }
}

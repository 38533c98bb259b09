extension ConfigField {
    /// A number for the field that never changes between firmware versions, for settings kept
    /// in flash: plain fields by their position (new ones go at the end), per-fault fields
    /// from 0x100 by fault number, array elements from 0x200 by array and index. A record
    /// written by an older firmware loads into a newer one; a key this firmware does not know
    /// is skipped.
    public var storageKey: UInt16 {
        switch self {
        case .recoveryDelay(let f): 0x100 + UInt16(f.rawValue) * 4
        case .latchAfter(let f): 0x101 + UInt16(f.rawValue) * 4
        case .latchWindow(let f): 0x102 + UInt16(f.rawValue) * 4
        case .ocvPoint(let p): 0x200 + UInt16(p.rawValue)
        case .cellVoltageGain(let c): 0x220 + UInt16(c.rawValue)
        case .cellVoltageOffset(let c): 0x240 + UInt16(c.rawValue)
        case .thermistorOffset(let s): 0x260 + UInt16(s.rawValue)
        default:
            ConfigField.plainIndex(of: self).map { UInt16($0) } ?? 0xFFFF
        }
    }

    /// The field stored under `key`, if this firmware has it.
    public init?(storageKey key: UInt16) {
        switch key {
        case 0..<0x100:
            let plain = ConfigField.plainFields
            guard Int(key) < plain.count else { return nil }
            self = plain[Int(key)]
        case 0x100..<0x200:
            guard let f = Fault(rawValue: UInt8((key - 0x100) / 4)), f.hasRecoveryPolicy else { return nil }
            switch key & 3 {
            case 0: self = .recoveryDelay(f)
            case 1: self = .latchAfter(f)
            case 2: self = .latchWindow(f)
            default: return nil
            }
        case 0x200..<0x215: self = .ocvPoint(.at(Int(key - 0x200)))
        case 0x220..<0x230: self = .cellVoltageGain(.at(Int(key - 0x220)))
        case 0x240..<0x250: self = .cellVoltageOffset(.at(Int(key - 0x240)))
        case 0x260..<0x268: self = .thermistorOffset(.at(Int(key - 0x260)))
        default: return nil
        }
    }

    static func plainIndex(of field: ConfigField) -> Int? {
        let plain = plainFields
        for k in plain.indices where plain[k] == field { return k }
        return nil
    }
}

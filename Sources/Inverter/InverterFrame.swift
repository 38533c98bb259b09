/// A classic CAN 2.0A frame as the inverter bus carries it: 11-bit identifier, up to 8 bytes.
/// The inverter protocols use nothing else (no extended IDs, no CAN FD), so this stays apart
/// from the ThingSet CAN frame, which needs both.
public struct InverterFrame: Sendable, Equatable {
    public var id: UInt16
    public private(set) var count: Int = 0
    public var bytes: InlineArray<8, UInt8> = InlineArray(repeating: 0)

    public init(id: UInt16) { self.id = id }

    public init(id: UInt16, data: [UInt8]) {
        self.init(id: id)
        for b in data.prefix(8) { append(b) }
    }

    public subscript(i: Int) -> UInt8 { bytes[i] }

    public static func == (a: InverterFrame, b: InverterFrame) -> Bool {
        guard a.id == b.id, a.count == b.count else { return false }
        for i in 0..<a.count where a.bytes[i] != b.bytes[i] { return false }
        return true
    }

    public mutating func append(_ b: UInt8) {
        guard count < 8 else { return }
        bytes[count] = b
        count += 1
    }

    /// Little-endian 16- and 32-bit fields, as every frame of the LV CAN family has them.
    public mutating func appendLE(_ v: UInt16) {
        append(UInt8(truncatingIfNeeded: v))
        append(UInt8(truncatingIfNeeded: v >> 8))
    }

    public mutating func appendLE(_ v: Int16) { appendLE(UInt16(bitPattern: v)) }

    public mutating func appendLE(_ v: UInt32) {
        appendLE(UInt16(truncatingIfNeeded: v))
        appendLE(UInt16(truncatingIfNeeded: v >> 16))
    }

    /// Pads with `byte` up to `length` bytes.
    public mutating func pad(to length: Int, with byte: UInt8 = 0) {
        while count < min(length, 8) { append(byte) }
    }

    /// The little-endian unsigned 16-bit field at `offset` (0 when the frame is too short).
    public func u16(at offset: Int) -> UInt16 {
        guard offset + 1 < count else { return 0 }
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    public func s16(at offset: Int) -> Int16 { Int16(bitPattern: u16(at: offset)) }
}

/// Rounding and clamping of physical values into protocol fields, without libm (a Cortex-M0+
/// has no FPU, and `rounded()` becomes a call to `roundf`).
enum Scale {
    /// `value / unit` rounded half away from zero and clamped into `range`; NaN gives `nan`.
    static func integer(_ value: Float, unit: Float, in range: ClosedRange<Int32>, nan: Int32 = 0) -> Int32 {
        guard !value.isNaN else { return nan }
        let x = value / unit
        if x >= Float(range.upperBound) { return range.upperBound }
        if x <= Float(range.lowerBound) { return range.lowerBound }
        return Int32(x >= 0 ? x + 0.5 : x - 0.5)
    }

    static func u16(_ value: Float, unit: Float) -> UInt16 {
        UInt16(integer(value, unit: unit, in: 0...0xFFFF))
    }

    static func s16(_ value: Float, unit: Float) -> Int16 {
        Int16(integer(value, unit: unit, in: -0x8000...0x7FFF))
    }

    static func u32(_ value: Float, unit: Float) -> UInt32 {
        guard !value.isNaN, value > 0 else { return 0 }
        let x = value / unit
        if x >= 4_294_967_040 { return 4_294_967_040 }
        return UInt32(x + 0.5)
    }
}

/// CBOR (RFC 8949) as ThingSet's binary mode uses it, without heap: a writer into a caller's
/// buffer and a reader over a received one. The writer emits the canonical forms the spec asks
/// for (definite lengths, shortest integers, float32); the reader accepts what peers may send
/// (any integer width, float16/32/64, integers for floats, indefinite arrays, maps and strings).

/// What went wrong while reading or writing CBOR. Offsets are byte positions in the message.
public enum CBORError: Error, Sendable, Equatable {
    /// The writer's buffer is full.
    case bufferFull
    /// The message ends inside an item.
    case truncated(at: Int)
    /// Another kind of item than the one asked for (major type and additional info byte).
    case unexpected(expected: CBORMajor, got: UInt8, at: Int)
    /// Additional information 28–30 (reserved), or 31 where no indefinite length is allowed.
    case invalidHead(UInt8, at: Int)
    /// A number that does not fit the requested type.
    case outOfRange(at: Int)
    /// Items nested deeper than the reader follows.
    case tooDeep(at: Int)
    /// A string chunk of another type inside an indefinite string, or a text that does not fit
    /// the caller's buffer.
    case badString(at: Int)
}

/// The major type of an item (the top three bits of its first byte).
public enum CBORMajor: UInt8, Sendable {
    case unsigned = 0, negative, bytes, text, array, map, tag, simple
}

/// Writes CBOR items into a fixed buffer.
public struct CBORWriter {
    public let buffer: UnsafeMutableBufferPointer<UInt8>
    /// Bytes written so far.
    public private(set) var count = 0

    public init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    public mutating func byte(_ b: UInt8) throws(CBORError) {
        guard count < buffer.count else { throw .bufferFull }
        buffer[count] = b
        count += 1
    }

    /// An item head: major type and argument in the shortest form.
    mutating func head(_ major: CBORMajor, _ value: UInt64) throws(CBORError) {
        let m = major.rawValue << 5
        if value < 24 {
            try byte(m | UInt8(value))
        } else if value <= 0xFF {
            try byte(m | 24)
            try byte(UInt8(value))
        } else if value <= 0xFFFF {
            try byte(m | 25)
            try bigEndian(value, bytes: 2)
        } else if value <= 0xFFFF_FFFF {
            try byte(m | 26)
            try bigEndian(value, bytes: 4)
        } else {
            try byte(m | 27)
            try bigEndian(value, bytes: 8)
        }
    }

    private mutating func bigEndian(_ value: UInt64, bytes: Int) throws(CBORError) {
        var shift = (bytes - 1) * 8
        while shift >= 0 {
            try byte(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            shift -= 8
        }
    }

    public mutating func uint(_ v: UInt64) throws(CBORError) { try head(.unsigned, v) }

    public mutating func int(_ v: Int64) throws(CBORError) {
        if v >= 0 { try head(.unsigned, UInt64(v)) } else { try head(.negative, UInt64(-(v + 1))) }
    }

    /// A float as float32 (`FA` and four bytes), the form ThingSet devices send.
    public mutating func float(_ v: Float) throws(CBORError) {
        try byte(0xFA)
        try bigEndian(UInt64(v.bitPattern), bytes: 4)
    }

    public mutating func bool(_ v: Bool) throws(CBORError) { try byte(v ? 0xF5 : 0xF4) }
    public mutating func null() throws(CBORError) { try byte(0xF6) }

    public mutating func text(_ s: StaticString) throws(CBORError) {
        try head(.text, UInt64(s.utf8CodeUnitCount))
        let p = s.utf8Start
        for k in 0..<s.utf8CodeUnitCount { try byte(p[k]) }
    }

    /// A text string of `count` bytes given one at a time by `byte`.
    public mutating func text(count: Int, _ byte: (Int) -> UInt8) throws(CBORError) {
        try head(.text, UInt64(count))
        for k in 0..<count { try self.byte(byte(k)) }
    }

    public mutating func text(_ utf8: UnsafeBufferPointer<UInt8>) throws(CBORError) {
        try head(.text, UInt64(utf8.count))
        for b in utf8 { try byte(b) }
    }

    public mutating func bytes(_ data: UnsafeBufferPointer<UInt8>) throws(CBORError) {
        try head(.bytes, UInt64(data.count))
        for b in data { try byte(b) }
    }

    public mutating func arrayHeader(_ count: Int) throws(CBORError) { try head(.array, UInt64(count)) }
    public mutating func mapHeader(_ count: Int) throws(CBORError) { try head(.map, UInt64(count)) }
}

/// Reads CBOR items from a received message.
public struct CBORReader {
    public let data: UnsafeBufferPointer<UInt8>
    /// Where the next item starts.
    public var position = 0
    /// How deep `skip()` follows nested items.
    public static let maximumDepth = 16

    public init(_ data: UnsafeBufferPointer<UInt8>) {
        self.data = data
    }

    public var isAtEnd: Bool { position >= data.count }

    /// The major type of the next item, without consuming it.
    public func peekMajor() throws(CBORError) -> CBORMajor {
        guard position < data.count else { throw .truncated(at: position) }
        return CBORMajor(rawValue: data[position] >> 5)!
    }

    /// The first byte of the next item, without consuming it.
    public func peekByte() throws(CBORError) -> UInt8 {
        guard position < data.count else { throw .truncated(at: position) }
        return data[position]
    }

    /// Reads a head of `major`; returns its argument, or `nil` for an indefinite length
    /// (only where `indefiniteAllowed`).
    mutating func head(_ major: CBORMajor, indefiniteAllowed: Bool = false) throws(CBORError) -> UInt64? {
        let start = position
        let first = try peekByte()
        guard first >> 5 == major.rawValue else { throw .unexpected(expected: major, got: first, at: start) }
        position += 1
        let info = first & 0x1F
        switch info {
        case 0..<24:
            return UInt64(info)
        case 24...27:
            let n = 1 << Int(info - 24)
            guard position + n <= data.count else { throw .truncated(at: start) }
            var v: UInt64 = 0
            for k in 0..<n { v = v << 8 | UInt64(data[position + k]) }
            position += n
            return v
        case 31 where indefiniteAllowed:
            return nil
        default:
            position = start
            throw .invalidHead(first, at: start)
        }
    }

    public mutating func readUInt() throws(CBORError) -> UInt64 {
        try head(.unsigned)!
    }

    /// An integer of either sign.
    public mutating func readInt() throws(CBORError) -> Int64 {
        let start = position
        if try peekMajor() == .negative {
            let n = try head(.negative)!
            guard n <= UInt64(Int64.max) else { position = start; throw .outOfRange(at: start) }
            return -1 - Int64(n)
        }
        let v = try readUInt()
        guard v <= UInt64(Int64.max) else { position = start; throw .outOfRange(at: start) }
        return Int64(v)
    }

    /// A number as Float: float16, float32 or float64, or an integer.
    public mutating func readFloat() throws(CBORError) -> Float {
        let start = position
        let first = try peekByte()
        switch first {
        case 0xF9, 0xFA, 0xFB:
            let n = first == 0xF9 ? 2 : first == 0xFA ? 4 : 8
            guard position + 1 + n <= data.count else { throw .truncated(at: start) }
            var v: UInt64 = 0
            for k in 0..<n { v = v << 8 | UInt64(data[position + 1 + k]) }
            position += 1 + n
            switch n {
            case 2: return CBORReader.half(UInt16(v))
            case 4: return Float(bitPattern: UInt32(v))
            default: return Float(Double(bitPattern: v))
            }
        default:
            switch first >> 5 {
            case 0: return Float(try readUInt())
            case 1: return Float(try readInt())
            default: throw .unexpected(expected: .simple, got: first, at: start)
            }
        }
    }

    /// IEEE 754 half precision to Float, by its bits (no libm on the device).
    static func half(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exponent = Int(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0x1F {  // infinity or NaN
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        }
        if exponent == 0 {  // zero or subnormal: mantissa × 2^-24
            let magnitude = Float(mantissa) * (1.0 / 16_777_216.0)
            return sign != 0 ? -magnitude : magnitude
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | mantissa << 13)
    }

    public mutating func readBool() throws(CBORError) -> Bool {
        let b = try peekByte()
        guard b == 0xF4 || b == 0xF5 else { throw .unexpected(expected: .simple, got: b, at: position) }
        position += 1
        return b == 0xF5
    }

    /// Consumes a null (`F6`) if one is next; returns whether it did.
    public mutating func readNull() -> Bool {
        guard position < data.count, data[position] == 0xF6 else { return false }
        position += 1
        return true
    }

    /// The header of an array: its length, or `nil` for an indefinite one (ends with a break).
    public mutating func readArrayHeader() throws(CBORError) -> Int? {
        let start = position
        guard let n = try head(.array, indefiniteAllowed: true) else { return nil }
        guard n <= UInt64(data.count) else { position = start; throw .truncated(at: start) }
        return Int(n)
    }

    /// The header of a map: its number of pairs, or `nil` for an indefinite one.
    public mutating func readMapHeader() throws(CBORError) -> Int? {
        let start = position
        guard let n = try head(.map, indefiniteAllowed: true) else { return nil }
        guard n <= UInt64(data.count) else { position = start; throw .truncated(at: start) }
        return Int(n)
    }

    /// Consumes a break (`FF`) if one is next; returns whether it did.
    public mutating func readBreak() -> Bool {
        guard position < data.count, data[position] == 0xFF else { return false }
        position += 1
        return true
    }

    /// A definite text string: the range of its bytes in `data`.
    public mutating func readTextRange() throws(CBORError) -> Range<Int> {
        let start = position
        guard let n = try head(.text, indefiniteAllowed: true) else {
            position = start
            throw .badString(at: start)
        }
        guard n <= UInt64(data.count - position) else { position = start; throw .truncated(at: start) }
        let range = position..<(position + Int(n))
        position += Int(n)
        return range
    }

    /// A text string, definite or indefinite (chunks), copied into `out`; returns its length.
    public mutating func readText(into out: UnsafeMutableBufferPointer<UInt8>) throws(CBORError) -> Int {
        let start = position
        let first = try peekByte()
        guard first >> 5 == CBORMajor.text.rawValue else {
            throw .unexpected(expected: .text, got: first, at: start)
        }
        var length = 0
        func append(_ r: Range<Int>) throws(CBORError) {
            guard length + r.count <= out.count else { throw .badString(at: start) }
            for k in r { out[length] = data[k]; length += 1 }
        }
        if first == 0x7F {
            position += 1
            while !readBreak() {
                guard position < data.count else { position = start; throw .truncated(at: start) }
                guard data[position] >> 5 == CBORMajor.text.rawValue, data[position] != 0x7F else {
                    position = start
                    throw .badString(at: start)
                }
                try append(try readTextRange())
            }
        } else {
            try append(try readTextRange())
        }
        return length
    }

    /// Skips one whole item (nested ones included, up to `maximumDepth`).
    public mutating func skip() throws(CBORError) {
        try skip(depth: 0)
    }

    private mutating func skip(depth: Int) throws(CBORError) {
        guard depth < CBORReader.maximumDepth else { throw .tooDeep(at: position) }
        let start = position
        let first = try peekByte()
        let major = CBORMajor(rawValue: first >> 5)!
        switch major {
        case .unsigned, .negative:
            _ = try head(major)
        case .bytes, .text:
            if let n = try head(major, indefiniteAllowed: true) {
                guard n <= UInt64(data.count - position) else { position = start; throw .truncated(at: start) }
                position += Int(n)
            } else {
                while !readBreak() {
                    guard position < data.count else { throw .truncated(at: start) }
                    guard data[position] >> 5 == major.rawValue, data[position] & 0x1F != 31 else {
                        throw .badString(at: position)
                    }
                    try skip(depth: depth + 1)
                }
            }
        case .array, .map:
            let perEntry = major == .map ? 2 : 1
            if let n = try head(major, indefiniteAllowed: true) {
                guard n <= UInt64(data.count) else { position = start; throw .truncated(at: start) }
                for _ in 0..<(Int(n) * perEntry) { try skip(depth: depth + 1) }
            } else {
                while !readBreak() {
                    guard position < data.count else { throw .truncated(at: start) }
                    for _ in 0..<perEntry { try skip(depth: depth + 1) }
                }
            }
        case .tag:
            _ = try head(.tag)
            try skip(depth: depth + 1)
        case .simple:
            let info = first & 0x1F
            switch info {
            case 0..<24: position += 1
            case 24: guard position + 2 <= data.count else { throw .truncated(at: start) }; position += 2
            case 25, 26, 27:
                let n = 1 << Int(info - 24)
                guard position + 1 + n <= data.count else { throw .truncated(at: start) }
                position += 1 + n
            default: throw .invalidHead(first, at: start)  // 28–30 reserved; a lone break
            }
        }
    }
}

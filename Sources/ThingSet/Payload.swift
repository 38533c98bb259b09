/// Reading a request's payload in its mode: CBOR in binary mode, JSON in text mode. Byte ranges
/// (names, strings) are absolute positions in the whole message.

/// An object named in a payload: by ID (binary) or by name.
public enum ThingSetKey: Equatable, Sendable {
    case id(UInt64)
    case name(Range<Int>)
}

public protocol ThingSetPayloadReader {
    /// Consumes a `null` if one is next.
    mutating func readNull() -> Bool
    /// Starts an array: its number of items.
    mutating func beginArray() throws(ThingSetStatus) -> Int
    /// Starts a map (object): its number of entries. Each entry is `readKey` then a value.
    mutating func beginMap() throws(ThingSetStatus) -> Int
    /// An ID or a name (a map key, or an array item naming an object).
    mutating func readKey() throws(ThingSetStatus) -> ThingSetKey
    /// A string: its bytes' range.
    mutating func readText() throws(ThingSetStatus) -> Range<Int>
    mutating func readUInt() throws(ThingSetStatus) -> UInt64
    /// A value of `type` (`unsupportedFormat` when the kind does not fit).
    mutating func readValue(_ type: ThingSetType) throws(ThingSetStatus) -> ThingSetValue
    /// Skips one value of any kind (an entry a DESIRE ignores).
    mutating func skipValue() throws(ThingSetStatus)
    /// Where the reader stands, to go back to after a value that was not taken.
    var mark: Int { get set }
    /// Nothing may follow the payload (`badRequest` otherwise).
    mutating func finish() throws(ThingSetStatus)
}

/// CBOR payloads.
public struct CBORPayloadReader: ThingSetPayloadReader {
    var reader: CBORReader
    let base: Int

    /// The payload at `range` of `message`.
    public init(_ message: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        reader = CBORReader(UnsafeBufferPointer(rebasing: message[range]))
        base = range.lowerBound
    }

    private mutating func run<T>(_ body: (inout CBORReader) throws(CBORError) -> T) throws(ThingSetStatus) -> T {
        do { return try body(&reader) } catch { throw .badRequest }
    }

    /// A value read for an item: the wrong kind is `unsupportedFormat`.
    private mutating func format<T>(_ body: (inout CBORReader) throws(CBORError) -> T) throws(ThingSetStatus) -> T {
        do { return try body(&reader) } catch { throw .unsupportedFormat }
    }

    public mutating func readNull() -> Bool { reader.readNull() }

    public mutating func beginArray() throws(ThingSetStatus) -> Int {
        guard let n = try run({ r throws(CBORError) in try r.readArrayHeader() }) else { throw .badRequest }
        return n
    }

    public mutating func beginMap() throws(ThingSetStatus) -> Int {
        guard let n = try run({ r throws(CBORError) in try r.readMapHeader() }) else { throw .badRequest }
        return n
    }

    public mutating func readKey() throws(ThingSetStatus) -> ThingSetKey {
        switch try run({ r throws(CBORError) in try r.peekMajor() }) {
        case .unsigned: return .id(try run { r throws(CBORError) in try r.readUInt() })
        case .text: return .name(try readText())
        default: throw .badRequest
        }
    }

    public mutating func readText() throws(ThingSetStatus) -> Range<Int> {
        let r = try run { r throws(CBORError) in try r.readTextRange() }
        return (r.lowerBound + base)..<(r.upperBound + base)
    }

    public mutating func readUInt() throws(ThingSetStatus) -> UInt64 {
        try run { r throws(CBORError) in try r.readUInt() }
    }

    public mutating func readValue(_ type: ThingSetType) throws(ThingSetStatus) -> ThingSetValue {
        switch type {
        case .bool:
            return .bool(try format { r throws(CBORError) in try r.readBool() })
        case .u8, .u16, .u32, .i32:
            return try ThingSetValue.integer(try format { r throws(CBORError) in try r.readInt() }, type)
        case .f32:
            return .float(try format { r throws(CBORError) in try r.readFloat() })
        case .string:
            let r = try format { r throws(CBORError) in try r.readTextRange() }
            return .text((r.lowerBound + base)..<(r.upperBound + base))
        case .f32Array(let count, _):
            let n = try format { r throws(CBORError) in try r.readArrayHeader() }
            guard let n, n == Int(count), n <= 32 else { throw .unsupportedFormat }
            var values = InlineArray<32, Float>(repeating: 0)
            for k in 0..<n { values[k] = try format { r throws(CBORError) in try r.readFloat() } }
            return .floats(values, count: n)
        }
    }

    public mutating func skipValue() throws(ThingSetStatus) {
        try run { r throws(CBORError) in try r.skip() }
    }

    public var mark: Int {
        get { reader.position }
        set { reader.position = newValue }
    }

    public mutating func finish() throws(ThingSetStatus) {
        guard reader.isAtEnd else { throw .badRequest }
    }
}

extension ThingSetValue {
    /// An integer checked against the range of `type` (`unsupportedFormat` outside it).
    static func integer(_ v: Int64, _ type: ThingSetType) throws(ThingSetStatus) -> ThingSetValue {
        let (lo, hi): (Int64, Int64) = switch type {
        case .u8: (0, 0xFF)
        case .u16: (0, 0xFFFF)
        case .u32: (0, 0xFFFF_FFFF)
        default: (Int64(Int32.min), Int64(Int32.max))
        }
        guard v >= lo && v <= hi else { throw .unsupportedFormat }
        return .int(v)
    }
}

/// JSON payloads of text mode (spec §3): numbers, `true`/`false`/`null`, strings without
/// escapes (names, paths and tokens need none; a string with a backslash is refused), arrays
/// and objects, with a trailing comma tolerated before `]` and `}` (§3.2). Nesting is bounded.
public struct JSONPayloadReader: ThingSetPayloadReader {
    let text: UnsafeBufferPointer<UInt8>
    var position: Int
    let end: Int
    /// A single value given where an array was expected (`!xAuth "token"`, spec D9).
    var bareItem = false
    static let maximumDepth = 8

    public init(_ message: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
        text = message
        position = range.lowerBound
        end = range.upperBound
    }

    var peek: UInt8? { position < end ? text[position] : nil }

    mutating func skipSpace() {
        while let c = peek, c == 0x20 || c == 0x09 { position += 1 }
    }

    /// After an item: a comma if one follows, and any closing brackets are left for the caller.
    mutating func afterItem() {
        skipSpace()
        if peek == UInt8(ascii: ",") { position += 1 }
        skipSpace()
    }

    /// Consumes `c` (after spaces) or throws.
    mutating func expect(_ c: UInt8) throws(ThingSetStatus) {
        skipSpace()
        guard peek == c else { throw .badRequest }
        position += 1
    }

    public mutating func readNull() -> Bool {
        skipSpace()
        guard position + 4 <= end, text[position] == UInt8(ascii: "n"), text[position + 1] == UInt8(ascii: "u"),
              text[position + 2] == UInt8(ascii: "l"), text[position + 3] == UInt8(ascii: "l") else { return false }
        position += 4
        afterItem()
        return true
    }

    /// Counts the items of the array or object starting at `position` (`[` or `{` already
    /// consumed), checking its structure, without consuming them.
    func countItems(closer: UInt8, pairs: Bool) throws(ThingSetStatus) -> Int {
        var copy = self
        var count = 0
        copy.skipSpace()
        while copy.peek != closer {
            guard copy.peek != nil else { throw .badRequest }
            if pairs {
                _ = try copy.string()
                try copy.expect(UInt8(ascii: ":"))
            }
            try copy.skipValue(depth: 1)
            count += 1
            copy.skipSpace()
            if copy.peek == UInt8(ascii: ",") {
                copy.position += 1
                copy.skipSpace()
            } else if copy.peek != closer {
                throw .badRequest
            }
        }
        return count
    }

    public mutating func beginArray() throws(ThingSetStatus) -> Int {
        if bareItem {
            bareItem = false
            return 1
        }
        try expect(UInt8(ascii: "["))
        return try countItems(closer: UInt8(ascii: "]"), pairs: false)
    }

    public mutating func beginMap() throws(ThingSetStatus) -> Int {
        try expect(UInt8(ascii: "{"))
        return try countItems(closer: UInt8(ascii: "}"), pairs: true)
    }

    /// A string's contents (between the quotes).
    mutating func string() throws(ThingSetStatus) -> Range<Int> {
        try expect(UInt8(ascii: "\""))
        let start = position
        while let c = peek, c != UInt8(ascii: "\"") {
            if c == UInt8(ascii: "\\") { throw .unsupportedFormat }
            position += 1
        }
        guard peek != nil else { throw .badRequest }
        let range = start..<position
        position += 1
        return range
    }

    public mutating func readKey() throws(ThingSetStatus) -> ThingSetKey {
        skipSpace()
        let range = try string()
        skipSpace()
        if peek == UInt8(ascii: ":") { position += 1 } else { afterItem() }
        return .name(range)
    }

    public mutating func readText() throws(ThingSetStatus) -> Range<Int> {
        let r = try string()
        afterItem()
        return r
    }

    public mutating func readUInt() throws(ThingSetStatus) -> UInt64 {
        guard case .integer(let v) = try number(), v >= 0 else { throw .badRequest }
        afterItem()
        return UInt64(v)
    }

    enum Number { case integer(Int64), real(Float) }

    /// 10^k for k in 0…10, exact in a Float.
    static func powerOfTen(_ k: Int) -> Float {
        var p: Float = 1
        for _ in 0..<k { p *= 10 }
        return p
    }

    /// A JSON number.
    mutating func number() throws(ThingSetStatus) -> Number {
        skipSpace()
        var negative = false
        if peek == UInt8(ascii: "-") { negative = true; position += 1 }
        var mantissa: Int64 = 0, digits = 0, scale = 0, real = false
        func digit(_ c: UInt8?) -> Int64? { c.flatMap { $0 >= 0x30 && $0 <= 0x39 ? Int64($0 - 0x30) : nil } }
        while let d = digit(peek) {
            if mantissa < 100_000_000_000_000_000 { mantissa = mantissa * 10 + d } else { scale += 1 }
            digits += 1
            position += 1
        }
        if peek == UInt8(ascii: ".") {
            real = true
            position += 1
            while let d = digit(peek) {
                if mantissa < 100_000_000_000_000_000 { mantissa = mantissa * 10 + d; scale -= 1 }
                digits += 1
                position += 1
            }
        }
        guard digits > 0 else { throw .unsupportedFormat }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            real = true
            position += 1
            var expNegative = false
            if peek == UInt8(ascii: "-") { expNegative = true; position += 1 } else if peek == UInt8(ascii: "+") { position += 1 }
            var e = 0, expDigits = 0
            while let d = digit(peek) { if e < 1000 { e = e * 10 + Int(d) }; expDigits += 1; position += 1 }
            guard expDigits > 0 else { throw .unsupportedFormat }
            scale += expNegative ? -e : e
        }
        if !real && scale == 0 { return .integer(negative ? -mantissa : mantissa) }
        // In Float: the values are Float settings. A mantissa up to 2^24 and a power of ten up
        // to 10^10 are exact, so "3.7" or "0.0125" is one correctly rounded division; larger
        // exponents take several roundings and land within two ulps.
        var x = Float(mantissa)
        var s = scale
        while s > 0 { let k = min(s, 10); x *= Self.powerOfTen(k); s -= k; if x > 1e38 { break } }
        while s < 0 { let k = min(-s, 10); x /= Self.powerOfTen(k); s += k; if x == 0 { break } }
        return .real(negative ? -x : x)
    }

    public mutating func readValue(_ type: ThingSetType) throws(ThingSetStatus) -> ThingSetValue {
        skipSpace()
        let value: ThingSetValue
        switch type {
        case .bool:
            if matchWord("true") { value = .bool(true) } else if matchWord("false") { value = .bool(false) } else {
                throw .unsupportedFormat
            }
        case .u8, .u16, .u32, .i32:
            guard case .integer(let v) = try number() else { throw .unsupportedFormat }
            value = try ThingSetValue.integer(v, type)
        case .f32:
            switch try number() {
            case .integer(let v): value = .float(Float(v))
            case .real(let x): value = .float(x)
            }
        case .string:
            guard peek == UInt8(ascii: "\"") else { throw .unsupportedFormat }
            value = .text(try string())
        case .f32Array(let count, _):
            guard peek == UInt8(ascii: "[") else { throw .unsupportedFormat }
            let n = try beginArray()
            guard n == Int(count), n <= 32 else { throw .unsupportedFormat }
            var values = InlineArray<32, Float>(repeating: 0)
            for k in 0..<n {
                switch try number() {
                case .integer(let v): values[k] = Float(v)
                case .real(let x): values[k] = Float(x)
                }
                afterItem()
            }
            try expect(UInt8(ascii: "]"))
            value = .floats(values, count: n)
        }
        afterItem()
        return value
    }

    mutating func matchWord(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard position + n <= end else { return false }
        for k in 0..<n where text[position + k] != word.utf8Start[k] { return false }
        position += n
        return true
    }

    /// Skips one value of any kind.
    mutating func skipValue(depth: Int) throws(ThingSetStatus) {
        guard depth <= JSONPayloadReader.maximumDepth else { throw .badRequest }
        skipSpace()
        guard let c = peek else { throw .badRequest }
        switch c {
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            let closer = c == UInt8(ascii: "[") ? UInt8(ascii: "]") : UInt8(ascii: "}")
            position += 1
            skipSpace()
            while peek != closer {
                guard peek != nil else { throw .badRequest }
                if closer == UInt8(ascii: "}") {
                    _ = try string()
                    try expect(UInt8(ascii: ":"))
                }
                try skipValue(depth: depth + 1)
                skipSpace()
                if peek == UInt8(ascii: ",") { position += 1; skipSpace() } else if peek != closer { throw .badRequest }
            }
            position += 1
        case UInt8(ascii: "t"): guard matchWord("true") else { throw .badRequest }
        case UInt8(ascii: "f"): guard matchWord("false") else { throw .badRequest }
        case UInt8(ascii: "n"): guard matchWord("null") else { throw .badRequest }
        default: _ = try number()
        }
    }

    public mutating func skipValue() throws(ThingSetStatus) {
        try skipValue(depth: 1)
        afterItem()
    }

    public var mark: Int {
        get { position }
        set { position = newValue }
    }

    public mutating func finish() throws(ThingSetStatus) {
        skipSpace()
        while let c = peek, c == UInt8(ascii: "]") || c == UInt8(ascii: "}") {
            position += 1
            skipSpace()
        }
        guard position == end else { throw .badRequest }
    }
}

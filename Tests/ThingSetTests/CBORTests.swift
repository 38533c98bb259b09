import Testing
@testable import ThingSet

/// Hex to bytes ("1903e8" → [0x19, 0x03, 0xE8]).
func hex(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = s.makeIterator()
    while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
    return out
}

/// What `body` writes, as bytes (a 64-byte buffer).
func written(_ body: (inout CBORWriter) throws -> Void) throws -> [UInt8] {
    var storage = [UInt8](repeating: 0, count: 64)
    return try storage.withUnsafeMutableBufferPointer { buffer in
        var w = CBORWriter(buffer)
        try body(&w)
        return Array(buffer[0..<w.count])
    }
}

/// Runs `body` on a reader over `bytes`.
func reading<R>(_ bytes: [UInt8], _ body: (inout CBORReader) throws -> R) throws -> R {
    try bytes.withUnsafeBufferPointer { p in
        var r = CBORReader(p)
        return try body(&r)
    }
}

/// The examples of RFC 8949, appendix A, that ThingSet uses.
@Suite struct CBORTests {
    static let integers: [(Int64, String)] = [
        (0, "00"), (1, "01"), (10, "0a"), (23, "17"), (24, "1818"), (25, "1819"), (100, "1864"),
        (1000, "1903e8"), (1_000_000, "1a000f4240"), (1_000_000_000_000, "1b000000e8d4a51000"),
        (-1, "20"), (-10, "29"), (-100, "3863"), (-1000, "3903e7"),
    ]

    @Test(arguments: integers)
    func integersInTheShortestForm(value: Int64, encoded: String) throws {
        #expect(try written { (w: inout CBORWriter) throws in try w.int(value) } == hex(encoded))
        #expect(try reading(hex(encoded)) { (r: inout CBORReader) throws in try r.readInt() } == value)
    }

    @Test func theLargestIntegers() throws {
        #expect(try written { (w: inout CBORWriter) throws in try w.uint(18_446_744_073_709_551_615) } == hex("1bffffffffffffffff"))
        #expect(try reading(hex("1bffffffffffffffff")) { (r: inout CBORReader) throws in try r.readUInt() } == UInt64.max)
        // Beyond Int64: refused, not wrapped.
        #expect(throws: CBORError.outOfRange(at: 0)) { try reading(hex("1bffffffffffffffff")) { (r: inout CBORReader) throws in try r.readInt() } }
        #expect(throws: CBORError.outOfRange(at: 0)) { try reading(hex("3bffffffffffffffff")) { (r: inout CBORReader) throws in try r.readInt() } }
        // Non-canonical widths are accepted: 10 in two bytes.
        #expect(try reading(hex("19000a")) { (r: inout CBORReader) throws in try r.readInt() } == 10)
    }

    static let floats: [(String, Float)] = [
        ("f90000", 0), ("f98000", -0.0), ("f93c00", 1), ("f93e00", 1.5), ("f97bff", 65504),
        ("f90001", 5.960464477539063e-8), ("f90400", 6.103515625e-5), ("f9c400", -4),
        ("fa47c35000", 100_000), ("fa7f7fffff", 3.4028234663852886e+38),
        ("fb3ff199999999999a", 1.1), ("fbc010666666666666", -4.1), ("f97c00", .infinity), ("f9fc00", -.infinity),
        ("1864", 100), ("3863", -100),
    ]

    @Test(arguments: floats)
    func floatsOfEveryWidthAndIntegersReadAsFloat(encoded: String, value: Float) throws {
        let x = try reading(hex(encoded)) { (r: inout CBORReader) throws in try r.readFloat() }
        #expect(x == value && x.sign == value.sign, "\(encoded) → \(x)")
    }

    @Test func nanAndFloatsWrittenAsFloat32() throws {
        #expect(try reading(hex("f97e00")) { (r: inout CBORReader) throws in try r.readFloat() }.isNaN)
        #expect(try written { (w: inout CBORWriter) throws in try w.float(100_000) } == hex("fa47c35000"))
        #expect(try written { (w: inout CBORWriter) throws in try w.float(52.31) } == hex("fa42513d71"))
    }

    @Test func simpleValuesStringsArraysAndMaps() throws {
        #expect(try written { (w: inout CBORWriter) throws in try w.bool(false); try w.bool(true); try w.null() } == hex("f4f5f6"))
        #expect(try written { (w: inout CBORWriter) throws in try w.text("") } == hex("60"))
        #expect(try written { (w: inout CBORWriter) throws in try w.text("IETF") } == hex("6449455446"))
        #expect(try written { (w: inout CBORWriter) throws in
            try w.arrayHeader(3); try w.int(1); try w.arrayHeader(2); try w.int(2); try w.int(3)
            try w.arrayHeader(2); try w.int(4); try w.int(5)
        } == hex("8301820203820405"))
        #expect(try written { (w: inout CBORWriter) throws in try w.mapHeader(2); for k in 1...4 { try w.int(Int64(k)) } } == hex("a201020304"))
        // Reading them back.
        try reading(hex("f4f5f6a201020304")) { (r: inout CBORReader) throws in
            #expect(try r.readBool() == false && r.readBool() == true && r.readNull())
            #expect(try r.readMapHeader() == 2)
            for k in 1...4 { #expect(try r.readInt() == Int64(k)) }
            #expect(r.isAtEnd)
        }
    }

    @Test func indefiniteLengthsAreAccepted() throws {
        // [_ 1, [2, 3], [_ 4, 5]]
        try reading(hex("9f018202039f0405ffff")) { (r: inout CBORReader) throws in
            #expect(try r.readArrayHeader() == nil)
            #expect(try r.readInt() == 1)
            #expect(try r.readArrayHeader() == 2)
            #expect(try r.readInt() == 2 && r.readInt() == 3)
            #expect(try r.readArrayHeader() == nil)
            #expect(try r.readInt() == 4 && r.readInt() == 5)
            #expect(r.readBreak() && r.readBreak() && r.isAtEnd)
        }
        // (_ "strea", "ming") into a buffer.
        var out = [UInt8](repeating: 0, count: 16)
        let n = try out.withUnsafeMutableBufferPointer { o in
            try reading(hex("7f657374726561646d696e67ff")) { (r: inout CBORReader) throws in try r.readText(into: o) }
        }
        #expect(String(decoding: out[0..<n], as: UTF8.self) == "streaming")
        // Skipping nested indefinite items: {_ "a": 1, "b": [_ 2, 3]} then 7.
        try reading(hex("bf61610161629f0203ffff07")) { (r: inout CBORReader) throws in
            try r.skip()
            #expect(try r.readInt() == 7)
        }
    }

    @Test func malformedInputIsNamedNotTrapped() {
        // Truncated heads and strings, reserved additional info, a lone break, too deep.
        #expect(throws: CBORError.truncated(at: 0)) { try reading(hex("1903")) { (r: inout CBORReader) throws in try r.readInt() } }
        #expect(throws: CBORError.truncated(at: 0)) { try reading(hex("6449455")) { (r: inout CBORReader) throws in try r.readTextRange() } }
        #expect(throws: CBORError.invalidHead(0x1C, at: 0)) { try reading(hex("1c")) { (r: inout CBORReader) throws in try r.readUInt() } }
        #expect(throws: CBORError.invalidHead(0xFF, at: 0)) { try reading(hex("ff")) { (r: inout CBORReader) throws in try r.skip() } }
        #expect(throws: CBORError.unexpected(expected: .text, got: 0x01, at: 0)) { try reading(hex("01")) { (r: inout CBORReader) throws in try r.readTextRange() } }
        #expect(throws: CBORError.truncated(at: 0)) { try reading(hex("9b00000000ffffffff")) { (r: inout CBORReader) throws in try r.readArrayHeader() } }
        let deep = [UInt8](repeating: 0x81, count: 40) + [0x01]
        #expect(throws: CBORError.tooDeep(at: 16)) { try reading(deep) { (r: inout CBORReader) throws in try r.skip() } }
        // A byte chunk inside an indefinite text string.
        #expect(throws: CBORError.badString(at: 0)) {
            var out = [UInt8](repeating: 0, count: 8)
            _ = try out.withUnsafeMutableBufferPointer { o in try reading(hex("7f4161ff")) { (r: inout CBORReader) throws in try r.readText(into: o) } }
        }
        // The writer stops at the end of its buffer.
        var storage = [UInt8](repeating: 0, count: 2)
        storage.withUnsafeMutableBufferPointer { b in
            var w = CBORWriter(b)
            #expect(throws: CBORError.bufferFull) { try w.text("IETF") }
        }
    }
}

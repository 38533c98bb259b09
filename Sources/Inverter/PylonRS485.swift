/// The Pylontech RS485 protocol, battery side (`specs/inverter-protocols.md` §2): ASCII-hex
/// frames `~ VER ADR CID1 CID2 LENGTH INFO CHKSUM CR`, both checksums checked, answers built
/// in place without a heap.
public enum PylonRS485 {
    /// Return codes (RTN) of an answer.
    public enum ReturnCode: UInt8, Sendable {
        case normal = 0x00
        case versionError = 0x01
        case checksumError = 0x02
        case lengthChecksumError = 0x03
        case commandInvalid = 0x04
        case formatError = 0x05
        case invalidData = 0x06
        case addressError = 0x90
    }

    /// The battery-data command group (CID1) of Pylontech packs.
    public static var batteryData: UInt8 { 0x46 }

    /// A request as read from the line. `error` is the return code to answer with when the
    /// frame is damaged (the header was readable, so it can be answered).
    public struct Request: Sendable {
        public var version: UInt8 = 0
        public var address: UInt8 = 0
        public var cid1: UInt8 = 0
        public var cid2: UInt8 = 0
        public var info = InlineArray<96, UInt8>(repeating: 0)
        public var infoCount = 0
        public var error: ReturnCode = .normal
    }

    /// The hex digit `c` stands for, upper or lower case.
    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }

    /// LCHKSUM of a 12-bit LENID: the sum of its nibbles, modulo 16, negated in 4 bits.
    public static func lengthChecksum(_ lenid: UInt16) -> UInt16 {
        let sum = (lenid & 0xF) + (lenid >> 4 & 0xF) + (lenid >> 8 & 0xF)
        return (16 - sum % 16) % 16
    }

    /// Reads a frame from a line (its CR removed or not; anything before `~` is skipped).
    /// nil when there is no readable header at all: such a line gets no answer.
    public static func parse(_ line: UnsafeBufferPointer<UInt8>) -> Request? {
        guard let soi = line.firstIndex(of: 0x7E) else { return nil }
        var end = line.count
        while end > soi + 1, line[end - 1] == 0x0D || line[end - 1] == 0x0A { end -= 1 }
        let body = soi + 1
        let chars = end - body
        func byte(_ k: Int) -> UInt8? {
            guard let hi = nibble(line[body + 2 * k]), let lo = nibble(line[body + 2 * k + 1]) else { return nil }
            return hi << 4 | lo
        }
        guard chars >= 16, let ver = byte(0), let adr = byte(1), let cid1 = byte(2), let cid2 = byte(3) else { return nil }
        var r = Request()
        r.version = ver
        r.address = adr
        r.cid1 = cid1
        r.cid2 = cid2
        var sum: UInt32 = 0
        for i in body..<(end - 4) { sum &+= UInt32(line[i]) }
        var sent: UInt32 = 0
        for i in (end - 4)..<end {
            guard let n = nibble(line[i]) else { r.error = .checksumError; return r }
            sent = sent << 4 | UInt32(n)
        }
        guard (~sum &+ 1) & 0xFFFF == sent else { r.error = .checksumError; return r }
        guard let l0 = byte(4), let l1 = byte(5) else { r.error = .formatError; return r }
        let length = UInt16(l0) << 8 | UInt16(l1)
        let lenid = length & 0x0FFF
        guard length >> 12 == lengthChecksum(lenid) else { r.error = .lengthChecksumError; return r }
        let infoChars = chars - 16
        guard Int(lenid) == infoChars, infoChars % 2 == 0, infoChars / 2 <= 96 else { r.error = .formatError; return r }
        for k in 0..<(infoChars / 2) {
            guard let b = byte(6 + k) else { r.error = .formatError; return r }
            r.info[k] = b
            r.infoCount += 1
        }
        return r
    }

    /// Builds one answer frame in a caller's buffer: the header, then INFO through `add…`,
    /// then `finish()` writes LENGTH, CHKSUM and CR. Overflowing the buffer gives 0.
    public struct AnswerWriter {
        let out: UnsafeMutableBufferPointer<UInt8>
        var info = InlineArray<96, UInt8>(repeating: 0)
        var infoCount = 0
        let header: (UInt8, UInt8, UInt8, UInt8)

        public init(into out: UnsafeMutableBufferPointer<UInt8>, version: UInt8 = 0x20, address: UInt8,
                    cid1: UInt8 = PylonRS485.batteryData, rtn: ReturnCode) {
            self.out = out
            header = (version, address, cid1, rtn.rawValue)
        }

        public mutating func add(_ b: UInt8) {
            guard infoCount < 96 else { return }
            info[infoCount] = b
            infoCount += 1
        }

        /// Big-endian, as every field inside the hex text is.
        public mutating func add16(_ v: UInt16) {
            add(UInt8(truncatingIfNeeded: v >> 8))
            add(UInt8(truncatingIfNeeded: v))
        }

        public mutating func add16(_ v: Int16) { add16(UInt16(bitPattern: v)) }

        public mutating func add24(_ v: UInt32) {
            add(UInt8(truncatingIfNeeded: v >> 16))
            add16(UInt16(truncatingIfNeeded: v))
        }

        /// ASCII text padded with NULs to `width` bytes.
        public mutating func addText(_ bytes: InlineArray<20, UInt8>, count: Int, width: Int) {
            for i in 0..<width { add(i < count && i < 20 ? bytes[i] : 0) }
        }

        /// The frame's length in bytes, or 0 if it does not fit.
        public mutating func finish() -> Int {
            let chars = 1 + 8 + 4 + 2 * infoCount + 4 + 1
            guard chars <= out.count else { return 0 }
            var o = HexText(out: out)
            o.put(0x7E)
            o.hex(header.0); o.hex(header.1); o.hex(header.2); o.hex(header.3)
            let lenid = UInt16(2 * infoCount)
            let length = PylonRS485.lengthChecksum(lenid) << 12 | lenid
            o.hex(UInt8(length >> 8)); o.hex(UInt8(length & 0xFF))
            for i in 0..<infoCount { o.hex(info[i]) }
            let check = UInt16(truncatingIfNeeded: ~o.sum &+ 1)
            o.hex(UInt8(check >> 8)); o.hex(UInt8(check & 0xFF))
            o.put(0x0D)
            return o.count
        }
    }

    /// Upper-case hex text into a buffer, summing the characters for CHKSUM. (A struct, not
    /// nested functions: those capture their variables in a heap box.)
    struct HexText {
        let out: UnsafeMutableBufferPointer<UInt8>
        var count = 0
        var sum: UInt32 = 0

        mutating func put(_ c: UInt8) {
            out[count] = c
            count += 1
        }

        mutating func digit(_ v: UInt8) {
            let c = v < 10 ? 0x30 + v : 0x41 + v - 10
            put(c)
            sum &+= UInt32(c)
        }

        mutating func hex(_ b: UInt8) {
            digit(b >> 4)
            digit(b & 0xF)
        }
    }
}

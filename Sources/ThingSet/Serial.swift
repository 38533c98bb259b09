/// ThingSet on a serial line (spec §9): one text request per line, with the optional CRC-32
/// and the shell-compatible form python-thingset's serial client sends.

/// CRC-32 as Ethernet and zlib use it (reflected 0xEDB88320, initial and final 0xFFFFFFFF).
public enum ThingSetCRC {
    public static func crc32(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

/// One serial port's ThingSet state: whether it is in shell-compatible mode (then answers
/// carry no CRC and unsolicited output is suspended, spec §9.3).
public struct ThingSetSerialPort: Sendable {
    public private(set) var shellMode = false
    public var channel = ThingSetChannel()

    public init() {}

    /// Whether reports and log text may be printed on this port now.
    public var unsolicitedOutputAllowed: Bool { !shellMode }

    /// Handles one received line (without its LF; a trailing CR is ignored). `line` may be
    /// rewritten in place (shell escapes undone). Writes the answer line without its line end
    /// into `out` and returns its length; 0 for no answer (not a request, a wrong CRC, a DESIRE).
    public mutating func process<Model: ThingSetModel>(_ line: UnsafeMutableBufferPointer<UInt8>, count: Int,
                                                       node: inout ThingSetNode<Model>,
                                                       into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var n = min(count, line.count)
        if n > 0 && line[n - 1] == 0x0D { n -= 1 }
        let prefix: StaticString = "thingset "
        var start = 0
        var shell = n >= prefix.utf8CodeUnitCount
        if shell {
            for k in 0..<prefix.utf8CodeUnitCount where line[k] != prefix.utf8Start[k] { shell = false; break }
        }
        if shell {
            // Undo the shell's escaping: \" → ", \\ → \.
            start = prefix.utf8CodeUnitCount
            var w = start, r = start
            while r < n {
                if line[r] == UInt8(ascii: "\\") && r + 1 < n && (line[r + 1] == UInt8(ascii: "\"") || line[r + 1] == UInt8(ascii: "\\")) {
                    r += 1
                }
                line[w] = line[r]
                w += 1
                r += 1
            }
            n = w
            shellMode = true
        }
        if !shell && n >= 10 && line[n - 1] == UInt8(ascii: "#") && line[n - 10] == UInt8(ascii: " ") {
            // "<message> XXXXXXXX#": check, and drop the line silently if it does not match.
            guard let given = ThingSetSerialPort.hex32(UnsafeBufferPointer(rebasing: line[(n - 9)..<(n - 1)])) else { return 0 }
            n -= 10
            guard ThingSetCRC.crc32(UnsafeBufferPointer(rebasing: line[0..<n])) == given else { return 0 }
        }
        if !shell, n > 0, line[0] != UInt8(ascii: "#"), line[0] != UInt8(ascii: ":") {
            shellMode = false  // a plain request ends the shell mode (spec §9.3)
        }
        let message = UnsafeBufferPointer(rebasing: line[start..<n])
        var answer = node.processText(message, into: out, channel: &channel)
        // Answers to plain lines carry a CRC (spec D5); shell-style answers never do.
        if answer > 0 && !shell && answer + 10 <= out.count {
            let crc = ThingSetCRC.crc32(UnsafeBufferPointer(rebasing: out[0..<answer]))
            let digits: StaticString = "0123456789ABCDEF"
            out[answer] = UInt8(ascii: " ")
            for k in 0..<8 { out[answer + 1 + k] = digits.utf8Start[Int((crc >> UInt32(28 - 4 * k)) & 0xF)] }
            out[answer + 9] = UInt8(ascii: "#")
            answer += 10
        }
        return answer
    }

    static func hex32(_ digits: UnsafeBufferPointer<UInt8>) -> UInt32? {
        var v: UInt32 = 0
        for c in digits {
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: return nil
            }
            v = v << 4 | d
        }
        return v
    }
}

/// How a token is written: 9 decimal digits, or 15 digits of 1–4 on a four-key keypad (the
/// restricted digit set: the 30-bit integer in two-bit groups, most significant first, each
/// group g written as g + 1).
public enum TokenText {
    /// A token as typed, or why it is not one.
    public enum ParseError: Error, Equatable, Sendable {
        /// Not exactly 9 (or 15 restricted) characters.
        case wrongLength(Int)
        /// A character outside 0–9 (or outside 1–4 for restricted), at this position.
        case badCharacter(at: Int)
        /// A restricted token whose number is beyond 999 999 999.
        case outOfRange
    }

    /// Reads `text` (ASCII) as a token.
    public static func parse(_ text: Span<UInt8>, restricted: Bool) throws(ParseError) -> UInt32 {
        if restricted {
            guard text.count == 15 else { throw .wrongLength(text.count) }
            var value: UInt32 = 0
            for i in 0..<15 {
                let c = text[i]
                guard c >= 0x31 && c <= 0x34 else { throw .badCharacter(at: i) }
                value = value << 2 | UInt32(c - 0x31)
            }
            guard value <= TokenChain.maximumToken else { throw .outOfRange }
            return value
        }
        guard text.count == 9 else { throw .wrongLength(text.count) }
        var value: UInt32 = 0
        for i in 0..<9 {
            let c = text[i]
            guard c >= 0x30 && c <= 0x39 else { throw .badCharacter(at: i) }
            value = value * 10 + UInt32(c - 0x30)
        }
        return value
    }

    /// The characters of `token`: 9 zero-padded digits, or 15 restricted digits.
    public static func characters(_ token: UInt32, restricted: Bool) -> (digits: InlineArray<15, UInt8>, count: Int) {
        var out = InlineArray<15, UInt8>(repeating: 0x30)
        if restricted {
            for i in 0..<15 { out[i] = 0x31 + UInt8(truncatingIfNeeded: token >> UInt32(2 * (14 - i)) & 3) }
            return (out, 15)
        }
        var x = token
        for i in (0..<9).reversed() {
            out[i] = 0x30 + UInt8(x % 10)
            x /= 10
        }
        return (out, 9)
    }
}

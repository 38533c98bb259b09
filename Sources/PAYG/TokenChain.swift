/// The OpenPAYGO Token code chain of one device (spec §4): its key and starting code, the
/// step from one code to the next, and the mapping between a token and its value.
public struct TokenChain: Sendable {
    public let key: SipHashKey
    /// The device's 9-digit starting code (0 … 999 999 999, never 0 in practice).
    public let startingCode: UInt32

    public init(key: SipHashKey, startingCode: UInt32) {
        self.key = key
        self.startingCode = startingCode
    }

    /// The largest token (9 digits).
    public static var maximumToken: UInt32 { 999_999_999 }

    /// F(x): SipHash-2-4 of x as 4 big-endian bytes written twice, folded to 32 bits, its top
    /// 30 bits kept, squeezed into 9 digits.
    public func next(_ x: UInt32) -> UInt32 {
        let b = x.byteSwapped   // big-endian bytes, read back as a little-endian word below
        let word = UInt64(b) | UInt64(b) << 32
        return TokenChain.squeeze(SipHash.hash(word: word, key: key))
    }

    /// Steps 3–5 of F, separate so their edge cases can be tested.
    static func squeeze(_ h: UInt64) -> UInt32 {
        let folded = UInt32(truncatingIfNeeded: h >> 32) ^ UInt32(truncatingIfNeeded: h)
        let r = folded >> 2
        return r > maximumToken ? r - 73_741_825 : r
    }

    /// `x` with its last three digits replaced by `base` (0 … 999).
    static func withBase(_ x: UInt32, _ base: UInt32) -> UInt32 { x - x % 1000 + base }

    /// The value a token carries (0 … 999).
    public func value(of token: UInt32) -> UInt32 {
        (token % 1000 + 1000 - startingCode % 1000) % 1000
    }

    /// The token for `value` (0 … 999) at `count` (≥ 1): `count` steps along the chain of that
    /// value, the last three digits set to the value's base.
    public func token(value: UInt32, count: UInt32) -> UInt32 {
        let base = (startingCode % 1000 + value) % 1000
        var x = TokenChain.withBase(startingCode, base)
        var i: UInt32 = 0
        while i < count {
            x = next(x)
            i += 1
        }
        return TokenChain.withBase(x, base)
    }
}

/// SipHash-2-4 (Aumasson and Bernstein): a keyed 64-bit hash, the MAC of OpenPAYGO Token.
/// Written for short messages on a microcontroller: no allocation, no tables.
public struct SipHashKey: Sendable, Equatable {
    /// The key as two little-endian words (key bytes 0–7 and 8–15).
    public let k0: UInt64
    public let k1: UInt64

    public init(k0: UInt64, k1: UInt64) {
        self.k0 = k0
        self.k1 = k1
    }

    /// The key from its 16 bytes.
    public init(bytes: InlineArray<16, UInt8>) {
        var a: UInt64 = 0, b: UInt64 = 0
        for i in 0..<8 {
            a |= UInt64(bytes[i]) << (8 * UInt64(i))
            b |= UInt64(bytes[8 + i]) << (8 * UInt64(i))
        }
        self.init(k0: a, k1: b)
    }
}

enum SipHash {
    /// SipHash-2-4 of `message` under `key`.
    static func hash(_ message: Span<UInt8>, key: SipHashKey) -> UInt64 {
        var v0: UInt64 = 0x736f_6d65_7073_6575 ^ key.k0
        var v1: UInt64 = 0x646f_7261_6e64_6f6d ^ key.k1
        var v2: UInt64 = 0x6c79_6765_6e65_7261 ^ key.k0
        var v3: UInt64 = 0x7465_6462_7974_6573 ^ key.k1
        let count = message.count
        var i = 0
        while i + 8 <= count {
            var m: UInt64 = 0
            for j in 0..<8 { m |= UInt64(message[i + j]) << (8 * UInt64(j)) }
            compress(m, &v0, &v1, &v2, &v3)
            i += 8
        }
        var last = UInt64(truncatingIfNeeded: count) << 56
        var j = 0
        while i + j < count {
            last |= UInt64(message[i + j]) << (8 * UInt64(j))
            j += 1
        }
        compress(last, &v0, &v1, &v2, &v3)
        v2 ^= 0xff
        for _ in 0..<4 { round(&v0, &v1, &v2, &v3) }
        return v0 ^ v1 ^ v2 ^ v3
    }

    /// The hash of one 8-byte message given as its little-endian word (the chain step's only
    /// message length: no buffer needed).
    static func hash(word m: UInt64, key: SipHashKey) -> UInt64 {
        var v0: UInt64 = 0x736f_6d65_7073_6575 ^ key.k0
        var v1: UInt64 = 0x646f_7261_6e64_6f6d ^ key.k1
        var v2: UInt64 = 0x6c79_6765_6e65_7261 ^ key.k0
        var v3: UInt64 = 0x7465_6462_7974_6573 ^ key.k1
        compress(m, &v0, &v1, &v2, &v3)
        compress(8 << 56, &v0, &v1, &v2, &v3)
        v2 ^= 0xff
        for _ in 0..<4 { round(&v0, &v1, &v2, &v3) }
        return v0 ^ v1 ^ v2 ^ v3
    }

    private static func compress(_ m: UInt64, _ v0: inout UInt64, _ v1: inout UInt64,
                                 _ v2: inout UInt64, _ v3: inout UInt64) {
        v3 ^= m
        round(&v0, &v1, &v2, &v3)
        round(&v0, &v1, &v2, &v3)
        v0 ^= m
    }

    private static func round(_ v0: inout UInt64, _ v1: inout UInt64, _ v2: inout UInt64, _ v3: inout UInt64) {
        v0 &+= v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
        v2 &+= v3; v3 = rotl(v3, 16); v3 ^= v2
        v0 &+= v3; v3 = rotl(v3, 21); v3 ^= v0
        v2 &+= v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
    }

    private static func rotl(_ x: UInt64, _ b: UInt64) -> UInt64 { (x << b) | (x >> (64 - b)) }
}

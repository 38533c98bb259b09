/// The simulator's random source: SplitMix64 (Steele, Lea, Flood 2014), small, fast and
/// fully determined by its seed, so the same seed gives the same run on every machine.
///
/// Passed in by the caller; the simulator never reads a global or time-based source.
public struct SimRandom: Sendable {
    @usableFromInline var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1), 24 bits of resolution.
    @inlinable
    public mutating func unit() -> Float {
        Float(UInt32(truncatingIfNeeded: next() >> 40)) * (1.0 / 16_777_216.0)
    }

    /// Uniform in `lower...upper`.
    @inlinable
    public mutating func uniform(_ lower: Float, _ upper: Float) -> Float {
        lower + (upper - lower) * unit()
    }

    /// Approximately normal with mean 0 and standard deviation 1: the sum of four uniforms
    /// (Irwin–Hall), rescaled. Tails are cut at ±3.46 σ, which suits sensor noise and spread
    /// and needs no logarithm or cosine on a microcontroller.
    @inlinable
    public mutating func gaussian() -> Float {
        let bits = next()
        let scale: Float = 1.0 / 65_536.0
        let a = Float(UInt32(truncatingIfNeeded: bits & 0xFFFF)) * scale
        let b = Float(UInt32(truncatingIfNeeded: (bits >> 16) & 0xFFFF)) * scale
        let c = Float(UInt32(truncatingIfNeeded: (bits >> 32) & 0xFFFF)) * scale
        let d = Float(UInt32(truncatingIfNeeded: (bits >> 48) & 0xFFFF)) * scale
        // Sum of 4 U(0,1): mean 2, variance 1/3.
        return (a + b + c + d - 2) * 1.732_050_8
    }

    /// A new generator for an independent sub-stream (e.g. one per cell), derived from this
    /// one's seed and `stream`, so adding a consumer does not shift the others' numbers.
    public func fork(_ stream: UInt64) -> SimRandom {
        var child = SimRandom(seed: state ^ (stream &* 0xD1B5_4A32_D192_ED03))
        _ = child.next()
        return child
    }
}

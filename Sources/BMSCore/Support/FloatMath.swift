/// Square root without libm: a Cortex-M0+ has no FPU, and `squareRoot()` there becomes a
/// call to `sqrtf`, which the firmware does not link.
enum FloatMath {
    /// √x for x ≥ 0 (0 for x ≤ 0 and NaN), to Float precision: the exponent halved for a
    /// first guess, then Newton's iteration, which doubles the correct digits each time.
    static func squareRoot(_ x: Float) -> Float {
        guard x > 0 else { return 0 }
        guard x.isFinite else { return x }
        var y = Float(bitPattern: (x.bitPattern >> 1) &+ 0x1FC0_0000)
        for _ in 0..<4 { y = 0.5 * (y + x / y) }
        return y
    }
}

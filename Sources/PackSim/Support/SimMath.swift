/// The few transcendental functions the models need, in Float, written out so the portable
/// line needs no libm. Accuracy is stated per function and checked against the host's libm
/// in the tests.
public enum SimMath {
    /// e^x, relative error below 5e-7 for |x| ≤ 80; 0 below −87, +∞ above 88.
    public static func exp(_ x: Float) -> Float {
        if x < -87 { return 0 }
        if x > 88 { return .infinity }
        // x = k·ln2 + r with |r| ≤ ln2/2; e^x = 2^k · e^r. ln2 is split in two (Cody–Waite)
        // so that k·ln2 is exact enough for |k| up to 127.
        let ln2Hi: Float = 0.693_145_751_953_125
        let ln2Lo: Float = 1.428_606_765_330_187e-6
        let k = round(x / 0.693_147_18)
        let r = (x - k * ln2Hi) - k * ln2Lo
        // Taylor series to r^7 for e^r on |r| ≤ 0.347: truncation below 1e-8.
        var p: Float = 1.0 / 5040
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        return scaleByPowerOfTwo(p, Int(k))
    }

    /// `x · 2^n` by adjusting the exponent bits (n within the normal range).
    static func scaleByPowerOfTwo(_ x: Float, _ n: Int) -> Float {
        var result = x
        var n = n
        // Two steps keep each factor a normal number.
        while n > 100 { result *= Float(sign: .plus, exponent: 100, significand: 1); n -= 100 }
        while n < -100 { result *= Float(sign: .plus, exponent: -100, significand: 1); n += 100 }
        return result * Float(sign: .plus, exponent: n, significand: 1)
    }
}

extension SimMath {
    /// Natural logarithm for x > 0, absolute error below 1e-6; −∞ for 0, NaN below.
    public static func log(_ x: Float) -> Float {
        guard x > 0 else { return x == 0 ? -.infinity : .nan }
        guard x.isFinite else { return x }
        // x = m · 2^e with m in [√½, √2): log x = e·ln2 + log m, and
        // log m = 2 atanh(s) with s = (m − 1)/(m + 1), |s| ≤ 0.172.
        var e = Int(x.exponent)
        var m = x.significand            // [1, 2)
        if m > 1.414_213_6 { m *= 0.5; e += 1 }
        let s = (m - 1) / (m + 1)
        let s2 = s * s
        var p: Float = 1.0 / 9
        p = p * s2 + 1.0 / 7
        p = p * s2 + 1.0 / 5
        p = p * s2 + 1.0 / 3
        p = p * s2 + 1
        return Float(e) * 0.693_147_18 + 2 * s * p
    }

    /// x^y for x > 0.
    public static func pow(_ x: Float, _ y: Float) -> Float { exp(y * log(x)) }
}

extension SimMath {
    /// x rounded to the nearest integer, halves away from zero, without a libm call
    /// (`Float.rounded()` becomes `roundf` on soft-float targets). A value one ulp below a
    /// half may round up, which no caller here can tell from noise.
    @inlinable
    public static func round(_ x: Float) -> Float {
        // From 2^23 on every Float is an integer; NaN and infinities pass through.
        guard abs(x) < 8_388_608 else { return x }
        return Float(Int32(x + (x >= 0 ? 0.5 : -0.5)))
    }
}

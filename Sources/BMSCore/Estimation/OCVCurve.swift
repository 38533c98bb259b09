/// The open-circuit voltage of a cell against its state of charge: 21 points at SOC 0, 5,
/// …, 100 %, linear between them. Editable (`sOcvPoints_V` on ThingSet): a user replaces the
/// preset with a curve calibrated on their own cells (`flexbms calibrate ocv`).
public struct OCVCurve: Sendable, Equatable {
    /// Volts at SOC 0 %, 5 %, …, 100 %; must rise (weakly) with SOC.
    public var volts: InlineArray<21, Float>

    public init(volts: InlineArray<21, Float>) {
        self.volts = volts
    }

    public static func == (a: OCVCurve, b: OCVCurve) -> Bool {
        for i in 0..<21 where a.volts[i] != b.volts[i] { return false }
        return true
    }

    /// The preset curve of a chemistry, or `nil` for `.custom`.
    ///
    /// LFP, NMC, LTO: the Libre Solar firmware's tables (reference §7; LTO from MDPI
    /// *Batteries* 5(1):31, 2019). NCA: Panasonic NCR18650PF points from the Kollmeyer 2018
    /// data set (doi 10.17632/wykht8y7tg.1) as tabulated by a third-party analysis — not
    /// checked against the data itself; 5 % points between its 10 % steps interpolated, the 0 %
    /// point (3.00 V) extrapolated by us.
    public static func preset(_ chemistry: Chemistry) -> OCVCurve? {
        switch chemistry {
        case .lfp:
            OCVCurve(volts: [2.833, 3.132, 3.177, 3.190, 3.213, 3.226, 3.240, 3.252, 3.262, 3.264, 3.265,
                             3.268, 3.271, 3.275, 3.283, 3.296, 3.304, 3.308, 3.309, 3.314, 3.392])
        case .nmc:
            OCVCurve(volts: [2.800, 3.588, 3.684, 3.702, 3.726, 3.745, 3.764, 3.787, 3.803, 3.819, 3.838,
                             3.858, 3.883, 3.924, 3.962, 3.993, 4.026, 4.056, 4.089, 4.135, 4.198])
        case .nca:
            OCVCurve(volts: [3.000, 3.237, 3.344, 3.391, 3.458, 3.513, 3.550, 3.576, 3.602, 3.633, 3.663,
                             3.716, 3.768, 3.815, 3.862, 3.905, 3.947, 4.003, 4.059, 4.104, 4.175])
        case .lto:
            OCVCurve(volts: [2.000, 2.105, 2.125, 2.141, 2.154, 2.166, 2.177, 2.187, 2.198, 2.210, 2.224,
                             2.240, 2.259, 2.282, 2.309, 2.340, 2.376, 2.415, 2.458, 2.513, 2.800])
        case .custom:
            nil
        }
    }

    /// Whether the points never fall with SOC (a curve that does cannot be inverted).
    public var isMonotonic: Bool {
        for i in 1..<21 where !(volts[i] >= volts[i - 1]) { return false }
        return true
    }

    /// OCV at `soc` (0…1; clamped to the table), V.
    public func voltage(atSOC soc: Float) -> Float {
        let x = min(max(soc, 0), 1) * 20
        let i = min(Int(x), 19)
        return volts[i] + (volts[i + 1] - volts[i]) * (x - Float(i))
    }

    /// OCV and its slope at `soc` in one lookup (the filter needs both at every sample).
    public func voltageAndSlope(atSOC soc: Float) -> (volts: Float, slope: Float) {
        let x = min(max(soc, 0), 1) * 20
        let i = min(Int(x), 19)
        let table = volts.span
        let low = table[i], rise = table[i + 1] - table[i]
        return (low + rise * (x - Float(i)), rise * 20)
    }

    /// dOCV/dSOC at `soc`, V per unit SOC (the slope of the segment holding it).
    public func slope(atSOC soc: Float) -> Float {
        let i = min(max(Int(min(max(soc, 0), 1) * 20), 0), 19)
        return (volts[i + 1] - volts[i]) * 20
    }

    /// The SOC whose OCV is `voltage` (0…1, clamped): the first segment that holds it. On a
    /// flat stretch the answer is its low end, which is why voltage alone says little there.
    public func soc(atVoltage voltage: Float) -> Float {
        if !(voltage > volts[0]) { return 0 }
        if voltage >= volts[20] { return 1 }
        for i in 0..<20 where voltage <= volts[i + 1] {
            let span = volts[i + 1] - volts[i]
            let f = span > 0 ? (voltage - volts[i]) / span : 0
            return (Float(i) + f) / 20
        }
        return 1
    }

    /// ∫ OCV dSOC from SOC `a` to `b` (0…1, clamped), V: the energy per Ah of capacity a cell
    /// gives between the two (exact on the linear table).
    public func integral(from a: Float, to b: Float) -> Float {
        cumulative(b) - cumulative(a)
    }

    /// ∫ OCV dSOC from 0 to `soc`.
    func cumulative(_ soc: Float) -> Float {
        let x = min(max(soc, 0), 1) * 20
        let i = min(Int(x), 19)
        var sum: Float = 0
        for k in 0..<i { sum += (volts[k] + volts[k + 1]) / 2 }
        let f = x - Float(i)
        let end = volts[i] + (volts[i + 1] - volts[i]) * f
        sum += (volts[i] + end) / 2 * f
        return sum / 20
    }
}

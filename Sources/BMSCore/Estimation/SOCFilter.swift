/// What the SOC filter knows of a cell besides its OCV curve.
public struct CellModelParameters: Sendable {
    /// Capacity used for coulomb counting, Ah (the label, until SOH learning refines it).
    public var capacityAh: Float
    /// Ohmic resistance at 25 °C, Ω; `nil` = not known yet, learned from current steps.
    public var r0: Float?
    /// Polarisation: resistance as a multiple of R0, and time constant, s.
    public var polarisationRatio: Float = 1
    public var polarisationTau: Float = 60
    /// Arrhenius activation energy of the resistances, J/mol.
    public var activationEnergy: Float = 20_000
    /// Voltage the OCV may sit off the curve by hysteresis or curve error, V (1 σ).
    public var curveUncertainty: Float
    /// Charge efficiency (fraction of charge current stored).
    public var chargeEfficiency: Float = 0.999

    public init(capacityAh: Float, r0: Float? = nil, curveUncertainty: Float) {
        self.capacityAh = capacityAh
        self.r0 = r0
        self.curveUncertainty = curveUncertainty
    }

    /// Defaults for a chemistry: hysteresis-aware curve uncertainty (LFP 10 mV, others 5 mV).
    public static func defaults(_ chemistry: Chemistry, capacityAh: Float) -> CellModelParameters {
        CellModelParameters(capacityAh: capacityAh, curveUncertainty: chemistry == .lfp ? 0.010 : 0.005)
    }
}

/// The state of charge of one cell by an extended Kalman filter: coulomb counting fused with
/// an equivalent-circuit model (OCV curve, R0, a fast and a slow RC pair), with the current
/// sensor's offset as a state, so that a constant sensor error is learned instead of
/// integrated into SOC drift.
///
/// States: SOC (0…1), fast polarisation v1 (V), slow polarisation v2 (V), current offset b
/// (A; measured = true + b). The slow pair stands for what no cheap model gets right
/// (diffusion, the cell's real resistance at minutes): it has its own process noise while
/// current flows and decays at rest, so a persistent voltage error under load is explained
/// by it rather than by the SOC, and the voltage speaks for the SOC once the cell has rested.
/// The voltage corrects the SOC in proportion to the OCV curve's slope, so on a flat LFP
/// plateau it barely moves it and near the knees it corrects it firmly. The covariance update
/// is Joseph's form, which stays symmetric and positive in Float.
public struct SOCFilter: Sendable {
    static let n = 4
    /// State: SOC, v1, v2, offset.
    var x: InlineArray<4, Float>
    /// Covariance, row-major 4×4.
    var p: InlineArray<16, Float>
    public var parameters: CellModelParameters
    public var curve: OCVCurve
    /// Learned R0 at 25 °C, Ω (from current steps), and how many steps fed it.
    public private(set) var learnedR0: Float
    public private(set) var r0Samples: Int = 0
    var lastCurrent: Float?
    var lastVoltage: Float = 0
    /// Seconds the current has been near zero.
    public private(set) var restSeconds: Float = 0

    /// Sensor noise of one voltage sample, V (1 σ), and of the current, A.
    public var voltageNoise: Float = 0.002
    public var currentNoise: Float
    /// Slow polarisation: time constant, s, and how much of R0·|i| it may wander per
    /// time constant while current flows.
    public var slowTau: Float = 600
    public var slowWander: Float = 3
    /// How long the model's voltage errors stay alike, s: n samples within it carry the
    /// information of one, so their variance is scaled by n.
    public var modelErrorCorrelationSeconds: Float = 300

    public var soc: Float { x[0] }
    public var v1: Float { x[1] }
    public var v2: Float { x[2] }
    public var offset: Float { x[3] }

    /// Starts from the first voltage reading: SOC from the OCV curve, with an uncertainty that
    /// is large where the curve is flat.
    public init(curve: OCVCurve, parameters: CellModelParameters, voltage: Float, current: Float) {
        self.curve = curve
        self.parameters = parameters
        let guessR0 = parameters.r0 ?? 0.05 / parameters.capacityAh
        learnedR0 = guessR0
        let estimate = curve.soc(atVoltage: voltage - current * guessR0)
        currentNoise = 0.002 * parameters.capacityAh
        // σ(SOC) from the voltage uncertainty through the slope, at least 2 %, at most 30 %.
        let slope = max(curve.slope(atSOC: estimate), 0.01)
        let sigma = min(max((parameters.curveUncertainty + abs(current) * guessR0) / slope, 0.02), 0.3)
        let offsetSigma = 0.005 * parameters.capacityAh
        x = [estimate, 0, 0, 0]
        p = InlineArray(repeating: 0)
        p[0] = sigma * sigma
        p[5] = 1e-4
        p[10] = 1e-4
        p[15] = offsetSigma * offsetSigma
    }

    /// The SOC uncertainty (1 σ).
    public var socSigma: Float { p[0].squareRoot() }

    /// R0 now: the configured one, or the learned one; scaled to `temperature` (°C).
    func r0(at temperature: Float) -> Float {
        let base = parameters.r0 ?? learnedR0
        let t = temperature + 273.15
        let x = parameters.activationEnergy / 8.314 * (1 / t - 1 / 298.15)
        return base * SOCFilter.exp(min(max(x, -3), 3))
    }

    /// One sample: `current` measured (A, + = charging), `voltage` measured (V), cell
    /// `temperature` (°C), `dt` seconds since the previous sample.
    public mutating func update(current measured: Float, voltage: Float, temperature: Float, dt: Float) {
        guard dt > 0 else { return }
        learnResistance(current: measured, voltage: voltage)
        let q = parameters.capacityAh
        let r0 = self.r0(at: temperature)
        let r1 = r0 * parameters.polarisationRatio
        let a1 = SOCFilter.exp(-dt / parameters.polarisationTau)
        let a2 = SOCFilter.exp(-dt / slowTau)

        // Predict.
        let i = measured - x[3]
        let efficiency: Float = i > 0 ? parameters.chargeEfficiency : 1
        let k = dt / (3600 * q)
        x[0] += efficiency * i * k
        x[1] = a1 * x[1] + (1 - a1) * r1 * i
        x[2] = a2 * x[2]
        var f = InlineArray<16, Float>(repeating: 0)
        f[0] = 1; f[3] = -efficiency * k
        f[5] = a1; f[7] = -(1 - a1) * r1
        f[10] = a2
        f[15] = 1
        p = SOCFilter.conjugate(p, by: f)
        // Process noise: current noise and capacity uncertainty (2 %) into SOC, model noise
        // into v1, the slow polarisation wandering while current flows, a slow walk of the
        // offset.
        let socNoise = currentNoise * k
        let capacityNoise = 0.02 * abs(i) * k
        p[0] += socNoise * socNoise + capacityNoise * capacityNoise
        p[5] += (0.0005 * 0.0005) * dt
        let wander = slowWander * r0 * abs(i)
        p[10] += wander * wander * dt / slowTau
        let offsetWalk = 1e-6 * q
        p[15] += offsetWalk * offsetWalk * dt

        restSeconds = abs(i) < 0.01 * q ? restSeconds + dt : 0

        // Correct with the voltage.
        let predicted = curve.voltage(atSOC: x[0]) + i * r0 + x[1] + x[2]
        let h: InlineArray<4, Float> = [curve.slope(atSOC: x[0]), 1, 1, -(r0 + r1 * (1 - a1))]
        let correlated = max(1, modelErrorCorrelationSeconds / dt)
        let dynamic = 0.3 * abs(i) * (r0 + r1)
        let noise = voltageNoise * voltageNoise
            + correlated * (parameters.curveUncertainty * parameters.curveUncertainty + dynamic * dynamic)
        correct(innovation: voltage - predicted, h: h, noise: noise)
    }

    /// The Kalman update for one scalar measurement with Jacobian `h`.
    mutating func correct(innovation: Float, h: InlineArray<4, Float>, noise: Float) {
        var ph = InlineArray<4, Float>(repeating: 0)
        for r in 0..<4 {
            var sum: Float = 0
            for c in 0..<4 { sum += p[r * 4 + c] * h[c] }
            ph[r] = sum
        }
        var s = noise
        for r in 0..<4 { s += h[r] * ph[r] }
        guard s > 0 else { return }
        var gain = InlineArray<4, Float>(repeating: 0)
        for r in 0..<4 {
            gain[r] = ph[r] / s
            x[r] += gain[r] * innovation
        }
        // Joseph: P ← (I − K H) P (I − K H)ᵀ + K R Kᵀ.
        var m = InlineArray<16, Float>(repeating: 0)
        for r in 0..<4 {
            for c in 0..<4 { m[r * 4 + c] = (r == c ? 1 : 0) - gain[r] * h[c] }
        }
        p = SOCFilter.conjugate(p, by: m)
        for r in 0..<4 {
            for c in 0..<4 { p[r * 4 + c] += gain[r] * noise * gain[c] }
        }
        SOCFilter.symmetrise(&p)
    }

    /// M P Mᵀ for 4×4 row-major matrices.
    static func conjugate(_ p: InlineArray<16, Float>, by m: InlineArray<16, Float>) -> InlineArray<16, Float> {
        var mp = InlineArray<16, Float>(repeating: 0)
        for r in 0..<4 {
            for c in 0..<4 {
                var sum: Float = 0
                for j in 0..<4 { sum += m[r * 4 + j] * p[j * 4 + c] }
                mp[r * 4 + c] = sum
            }
        }
        var out = InlineArray<16, Float>(repeating: 0)
        for r in 0..<4 {
            for c in 0..<4 {
                var sum: Float = 0
                for j in 0..<4 { sum += mp[r * 4 + j] * m[c * 4 + j] }
                out[r * 4 + c] = sum
            }
        }
        symmetrise(&out)
        return out
    }

    static func symmetrise(_ p: inout InlineArray<16, Float>) {
        for r in 0..<4 {
            for c in (r + 1)..<4 {
                let mean = (p[r * 4 + c] + p[c * 4 + r]) / 2
                p[r * 4 + c] = mean
                p[c * 4 + r] = mean
            }
        }
    }

    /// R0 from current steps: when the current changes by more than C/4 between two
    /// samples, the voltage step over the current step is R0 plus what the fast pair did in
    /// the interval; averaged with a weight of 1/8 per step.
    mutating func learnResistance(current: Float, voltage: Float) {
        defer { lastCurrent = current; lastVoltage = voltage }
        guard parameters.r0 == nil, let previous = lastCurrent else { return }
        let di = current - previous
        guard abs(di) > 0.25 * parameters.capacityAh else { return }
        let r = (voltage - lastVoltage) / di
        guard r > 0 && r < 1 else { return }
        learnedR0 = r0Samples == 0 ? r : learnedR0 + (r - learnedR0) / 8
        r0Samples += 1
    }

    /// e^x for |x| ≤ 20 without libm: x/2^k small enough for a short series, then k squarings.
    static func exp(_ x: Float) -> Float {
        var y = x, squarings = 0
        while abs(y) > 0.0625 && squarings < 30 { y /= 2; squarings += 1 }
        var e: Float = 1 + y * (1 + y * (0.5 + y * (1.0 / 6 + y / 24)))
        for _ in 0..<squarings { e *= e }
        return e
    }

    /// Pins the SOC to a known value (full at the CV tail: 1; empty at the discharge limit).
    public mutating func recalibrate(to value: Float, sigma: Float) {
        x[0] = value
        for c in 1..<4 { p[c] = 0; p[c * 4] = 0 }
        p[0] = sigma * sigma
    }

    /// The covariance is symmetric with a positive diagonal and positive 2×2 principal
    /// minors (a cheap positive-definiteness check for tests and diagnostics).
    public var covarianceIsHealthy: Bool {
        for r in 0..<4 {
            guard p[r * 4 + r] > 0, p[r * 4 + r].isFinite else { return false }
            for c in (r + 1)..<4 {
                guard p[r * 4 + c] == p[c * 4 + r] else { return false }
                guard p[r * 4 + r] * p[c * 4 + c] - p[r * 4 + c] * p[r * 4 + c] > 0 else { return false }
            }
        }
        return true
    }
}

/// What the SOC filter knows of a cell besides its OCV curve.
public struct CellModelParameters: Sendable {
    /// Capacity used for coulomb counting, Ah (the label, until SOH learning refines it).
    public var capacityAh: Float
    /// Ohmic resistance at 25 °C, Ω; `nil` = not known yet, learned from current steps.
    public var r0: Float?
    /// Polarisation: resistance as a multiple of R0, and time constant, s.
    public var polarisationRatio: Float = 1
    public var polarisationTau: Float = 60
    /// The slow pair: resistance as a multiple of R0 (0: not modelled, the pair only takes
    /// up what the model misses) and time constant, s.
    public var slowRatio: Float = 0
    public var slowTau: Float = 600
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

    /// The parameters for a configuration: the chemistry's defaults at its capacity, with
    /// what `sCellR0_mOhm` … `sCellTau2_s` give (a fixed R0 is not learned).
    public init(_ config: BMSConfig) {
        self = .defaults(config.pack.chemistry, capacityAh: config.pack.capacityAh)
        let m = config.cellModel
        if m.tau1 > 0 { polarisationTau = m.tau1 }
        if m.tau2 > 0 { slowTau = m.tau2 }
        guard m.r0 > 0 else { return }
        r0 = m.r0 / 1000
        if m.r1 > 0 { polarisationRatio = m.r1 / m.r0 }
        if m.r2 > 0 { slowRatio = m.r2 / m.r0 }
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
    /// State: SOC, fast and slow polarisation (V), current offset (A).
    public private(set) var soc: Float
    public private(set) var v1: Float = 0
    public private(set) var v2: Float = 0
    public private(set) var offset: Float = 0
    /// Covariance of (SOC, v1, v2, offset).
    var p: Covariance4
    public var parameters: CellModelParameters
    public var curve: OCVCurve
    /// Learned R0 at 25 °C, Ω (from current steps), and how many steps fed it.
    public private(set) var learnedR0: Float
    public private(set) var r0Samples: Int = 0
    var lastCurrent: Float?
    var lastVoltage: Float = 0
    /// Decay factors for the last step length, and the Arrhenius factor for the last
    /// temperature: both change rarely, and each costs an exponential.
    var cachedDt: Float = -1
    var decay1: Float = 0
    var decay2: Float = 0
    var cachedTemperature: Float = .nan
    var arrhenius: Float = 1

    /// Sensor noise of one voltage sample, V (1 σ), and of the current, A.
    public var voltageNoise: Float = 0.002
    public var currentNoise: Float
    /// Slow polarisation: how much of R0·|i| it may wander per
    /// time constant while current flows. It stands for the overpotential an R0-plus-one-RC
    /// model misses — solid diffusion, which at low C-rates over tens of minutes commonly
    /// outweighs the ohmic drop several times — so it must be free to reach several R0·|i|
    /// (the stationary spread of this walk is about slowWander / √2 × R0·|i|). Too tight,
    /// and an unmodelled overpotential during a long charge is read as extra SOC; too loose,
    /// and the voltage under current says nothing. 10 was chosen over 3 and 20 on the
    /// shared DFN records and six virtual-pack runs together (docs/manual/state-of-charge.md).
    public var slowWander: Float = 10
    /// How long the model's voltage errors stay alike, s: n samples within that time carry
    /// the information of one, so their variance is scaled by n. The dynamic part (the
    /// polarisation model under current) for minutes; the curve part (OCV table error, LFP
    /// hysteresis, which depend on the SOC and the last direction of current) for hours.
    public var modelErrorCorrelationSeconds: Float = 300
    /// The model's voltage error under current, as a fraction of its own overpotential
    /// (R0 + R1)·|i| (1 σ).
    public var dynamicErrorFraction: Float = 0.3
    public var curveErrorCorrelationSeconds: Float = 3600

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
        soc = estimate
        p = Covariance4(diagonal: (sigma * sigma, 1e-4, 1e-4, offsetSigma * offsetSigma))
    }

    /// The SOC uncertainty (1 σ).
    public var socSigma: Float { FloatMath.squareRoot(p.s00) }

    /// The current offset's uncertainty (1 σ), A.
    public var offsetSigma: Float { FloatMath.squareRoot(p.s33) }

    /// R0 at 25 °C in use, Ω: the configured one, else the learned one (the first guess until
    /// a step has been seen).
    public var r0: Float { parameters.r0 ?? learnedR0 }

    /// Whether R0 is known rather than guessed: configured, or learned from at least
    /// `steps` current steps.
    public func resistanceIsKnown(steps: Int = 3) -> Bool { parameters.r0 != nil || r0Samples >= steps }

    /// R0 at the temperature of the last update, Ω.
    public var presentR0: Float { (parameters.r0 ?? learnedR0) * arrhenius }

    /// R0 now: the configured one, or the learned one; scaled to `temperature` (°C).
    mutating func r0(at temperature: Float) -> Float {
        if !(abs(temperature - cachedTemperature) < 0.1) {
            let t = temperature + 273.15
            let x = parameters.activationEnergy / 8.314 * (1 / t - 1 / 298.15)
            arrhenius = SOCFilter.exp(min(max(x, -3), 3))
            cachedTemperature = temperature
        }
        return (parameters.r0 ?? learnedR0) * arrhenius
    }

    /// One sample: `current` measured (A, + = charging), `voltage` measured (V), cell
    /// `temperature` (°C), `dt` seconds since the previous sample. With `voltageValid` false
    /// (an implausible reading) only the charge is counted.
    public mutating func update(current measured: Float, voltage: Float, temperature: Float, dt: Float,
                                voltageValid: Bool = true) {
        guard dt > 0 else { return }
        let q = parameters.capacityAh
        // The Arrhenius factor first: a resistance learned now is at this temperature and is
        // stored as its 25 °C equivalent.
        _ = self.r0(at: temperature)
        if voltageValid { learnResistance(current: measured, voltage: voltage) }
        let r0 = self.r0(at: temperature)
        let r1 = r0 * parameters.polarisationRatio
        let r2 = r0 * parameters.slowRatio
        if dt != cachedDt {
            decay1 = SOCFilter.exp(-dt / parameters.polarisationTau)
            decay2 = SOCFilter.exp(-dt / parameters.slowTau)
            cachedDt = dt
        }
        let a1 = decay1, a2 = decay2

        // Predict: F = I but for F[0,3] = −ηk, F[1,1] = a1, F[1,3] = −(1−a1)r1, F[2,2] = a2,
        // F[2,3] = −(1−a2)r2.
        let i = measured - offset
        let efficiency: Float = i > 0 ? parameters.chargeEfficiency : 1
        let k = dt / (3600 * q)
        soc += efficiency * i * k
        v1 = a1 * v1 + (1 - a1) * r1 * i
        v2 = a2 * v2 + (1 - a2) * r2 * i
        p.predict(f03: -efficiency * k, f11: a1, f13: -(1 - a1) * r1, f22: a2, f23: -(1 - a2) * r2)
        // Process noise: current noise and capacity uncertainty (2 %) into SOC, model noise
        // into v1, the slow polarisation wandering while current flows, a slow walk of the
        // offset.
        let socNoise = currentNoise * k
        let capacityNoise = 0.02 * abs(i) * k
        let wander = slowWander * r0 * abs(i)
        let offsetWalk = 1e-6 * q
        p.s00 += socNoise * socNoise + capacityNoise * capacityNoise
        p.s11 += (0.0005 * 0.0005) * dt
        p.s22 += wander * wander * dt / parameters.slowTau
        p.s33 += offsetWalk * offsetWalk * dt

        // Beyond the curve's ends the model says nothing true (the voltage of a cell past
        // full runs away with current, not with charge): count only. Otherwise the innovation
        // there, unexplainable by the SOC, would be pushed into the offset state.
        guard voltageValid, soc > 0, soc < 1 else {
            soc = min(max(soc, 0), 1)
            return
        }

        // Correct with the voltage: h = ∂V/∂(SOC, v1, v2, offset).
        let (ocv, slope) = curve.voltageAndSlope(atSOC: soc)
        let predicted = ocv + i * r0 + v1 + v2
        // The offset enters the voltage now only through the ohmic term; through v1 it acts
        // via the prediction (F), which the covariance already carries.
        let h = (slope, Float(1), Float(1), -r0)
        let dynamic = dynamicErrorFraction * abs(i) * (r0 + r1 + r2)
        let curveError = parameters.curveUncertainty
        let noise = voltageNoise * voltageNoise
            + max(1, modelErrorCorrelationSeconds / dt) * dynamic * dynamic
            + max(1, curveErrorCorrelationSeconds / dt) * curveError * curveError
        if let gain = p.correct(h: h, noise: noise) {
            let innovation = voltage - predicted
            soc += gain.0 * innovation
            v1 += gain.1 * innovation
            v2 += gain.2 * innovation
            offset += gain.3 * innovation
        }
        // The SOC is a fraction of the capacity between the curve's ends. Near them the
        // voltage runs away (end-of-charge knee, polarisation) faster than any curve, and
        // an unbounded state would follow it far past full; project it back. The offset is
        // kept within what a current sensor could plausibly be off by (1 % of 1 C).
        soc = min(max(soc, 0), 1)
        let maxOffset = 0.01 * q
        offset = min(max(offset, -maxOffset), maxOffset)
    }

    /// R0 from current steps: when the current changes by more than C/4 between two
    /// samples, the voltage step over the current step is R0 plus what the fast pair did in
    /// the interval; averaged with a weight of 1/8 per step.
    mutating func learnResistance(current: Float, voltage: Float) {
        defer { lastCurrent = current; lastVoltage = voltage }
        guard parameters.r0 == nil, let previous = lastCurrent else { return }
        let di = current - previous
        guard abs(di) > 0.25 * parameters.capacityAh else { return }
        // Measured at the present temperature; kept as the 25 °C equivalent.
        let r = (voltage - lastVoltage) / di / arrhenius
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
        soc = value
        p.s01 = 0; p.s02 = 0; p.s03 = 0
        p.s00 = sigma * sigma
    }

    /// Takes back a stored state after a reset, right after `init` from the first voltage:
    /// the stored SOC and the voltage's are merged by their variances (on an LFP plateau the
    /// stored one wins, where the curve is steep the voltage does), unless they disagree by
    /// more than three σ — then the cell has changed while the BMS was off (replaced,
    /// charged on the bench) and the voltage is believed.
    mutating func restore(soc stored: Float, sigma: Float, offset storedOffset: Float, r0: Float, r0Samples samples: Int) {
        let fromVoltage = p.s00, fromStore = sigma * sigma
        let difference = stored - soc
        if difference * difference <= 9 * (fromVoltage + fromStore) {
            soc = (soc * fromStore + stored * fromVoltage) / (fromVoltage + fromStore)
            p.s00 = fromVoltage * fromStore / (fromVoltage + fromStore)
        }
        let maxOffset = 0.01 * parameters.capacityAh
        offset = min(max(storedOffset, -maxOffset), maxOffset)
        if samples > 0 && parameters.r0 == nil {
            learnedR0 = r0
            r0Samples = samples
        }
    }

    /// The covariance has a positive finite diagonal and positive 2×2 principal minors (a
    /// cheap positive-definiteness check for tests and diagnostics).
    public var covarianceIsHealthy: Bool { p.isHealthy }
}

/// A symmetric 4×4 covariance stored as its 10 distinct entries (named, so the filter's hot
/// path is plain arithmetic on the device).
struct Covariance4: Sendable {
    var s00: Float, s01: Float = 0, s02: Float = 0, s03: Float = 0
    var s11: Float, s12: Float = 0, s13: Float = 0
    var s22: Float, s23: Float = 0
    var s33: Float

    init(diagonal d: (Float, Float, Float, Float)) {
        s00 = d.0; s11 = d.1; s22 = d.2; s33 = d.3
    }

    /// P ← F P Fᵀ for F = I but for F[0,3] = f03, F[1,1] = f11, F[1,3] = f13, F[2,2] = f22,
    /// F[2,3] = f23.
    mutating func predict(f03: Float, f11: Float, f13: Float, f22: Float, f23: Float) {
        // Rows of F P (row 3 and the symmetric parts are P's own).
        let r0 = (s00 + f03 * s03, s01 + f03 * s13, s02 + f03 * s23, s03 + f03 * s33)
        let r1 = (f11 * s01 + f13 * s03, f11 * s11 + f13 * s13, f11 * s12 + f13 * s23, f11 * s13 + f13 * s33)
        let r2 = (f22 * s02 + f23 * s03, f22 * s12 + f23 * s13, f22 * s22 + f23 * s23, f22 * s23 + f23 * s33)
        // (F P) Fᵀ: column 0 = c0 + f03 c3, column 1 = f11 c1 + f13 c3, column 2 = f22 c2 + f23 c3.
        s00 = r0.0 + f03 * r0.3
        s01 = f11 * r0.1 + f13 * r0.3
        s02 = f22 * r0.2 + f23 * r0.3
        s03 = r0.3
        s11 = f11 * r1.1 + f13 * r1.3
        s12 = f22 * r1.2 + f23 * r1.3
        s13 = r1.3
        s22 = f22 * r2.2 + f23 * r2.3
        s23 = r2.3
    }

    /// The Kalman update for one scalar measurement with Jacobian `h` and noise variance
    /// `noise`, in Joseph's form: P ← (I − k hᵀ) P (I − k hᵀ)ᵀ + k r kᵀ, which for this
    /// rank-one update is P − k (Ph)ᵀ − (Ph) kᵀ + (hᵀPh + r) k kᵀ, symmetric by construction.
    /// Returns the gain, or `nil` when the innovation variance is not positive.
    mutating func correct(h: (Float, Float, Float, Float), noise: Float) -> (Float, Float, Float, Float)? {
        let ph = (s00 * h.0 + s01 * h.1 + s02 * h.2 + s03 * h.3,
                  s01 * h.0 + s11 * h.1 + s12 * h.2 + s13 * h.3,
                  s02 * h.0 + s12 * h.1 + s22 * h.2 + s23 * h.3,
                  s03 * h.0 + s13 * h.1 + s23 * h.2 + s33 * h.3)
        let hph = h.0 * ph.0 + h.1 * ph.1 + h.2 * ph.2 + h.3 * ph.3
        let s = hph + noise
        guard s > 0 else { return nil }
        let k = (ph.0 / s, ph.1 / s, ph.2 / s, ph.3 / s)
        func term(_ ki: Float, _ phi: Float, _ kj: Float, _ phj: Float) -> Float {
            s * ki * kj - ki * phj - phi * kj
        }
        s00 += term(k.0, ph.0, k.0, ph.0)
        s01 += term(k.0, ph.0, k.1, ph.1)
        s02 += term(k.0, ph.0, k.2, ph.2)
        s03 += term(k.0, ph.0, k.3, ph.3)
        s11 += term(k.1, ph.1, k.1, ph.1)
        s12 += term(k.1, ph.1, k.2, ph.2)
        s13 += term(k.1, ph.1, k.3, ph.3)
        s22 += term(k.2, ph.2, k.2, ph.2)
        s23 += term(k.2, ph.2, k.3, ph.3)
        s33 += term(k.3, ph.3, k.3, ph.3)
        return k
    }

    var isHealthy: Bool {
        let diagonal = (s00, s11, s22, s33)
        guard diagonal.0 > 0, diagonal.1 > 0, diagonal.2 > 0, diagonal.3 > 0,
              diagonal.0.isFinite, diagonal.1.isFinite, diagonal.2.isFinite, diagonal.3.isFinite else { return false }
        return s00 * s11 - s01 * s01 > 0 && s00 * s22 - s02 * s02 > 0 && s00 * s33 - s03 * s03 > 0
            && s11 * s22 - s12 * s12 > 0 && s11 * s33 - s13 * s13 > 0 && s22 * s33 - s23 * s23 > 0
    }
}

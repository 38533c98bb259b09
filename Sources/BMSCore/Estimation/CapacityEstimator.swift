/// The capacity of one cell from charge throughput between two well-known SOC points.
///
/// A well-known point is an SOC the voltage vouches for, independent of coulomb counting: a
/// rest where the OCV curve is steep enough for the relaxed voltage to name the SOC (NMC almost
/// anywhere, LFP only at its knees). The full and empty pins are not points: they come early by
/// the overpotential (see `CellEstimator.pin`). Between two such points the counted charge over the SOC swing is
/// one capacity sample; samples are merged by inverse variance with the label as the prior,
/// so a wide swing between sharp points counts much and a narrow one little. The variance
/// never drops below (1 %)², so an ageing cell keeps being followed.
public struct CapacityEstimator: Sendable {
    /// Best estimate, Ah, and its relative variance ((σ/C)²).
    public private(set) var capacityAh: Float
    public private(set) var relativeVariance: Float
    /// Capacity samples merged so far.
    public private(set) var samples: Int = 0
    /// The last well-known point: SOC, its σ, seconds since, and the charge counted since
    /// (Ah, + = charged).
    public private(set) var anchorSOC: Float = 0
    public private(set) var anchorSigma: Float = 0
    public private(set) var anchorAge: Float = 0
    public private(set) var throughputAh: Float = 0
    public private(set) var hasAnchor = false

    /// Smallest SOC swing that makes a sample (two points 15 % apart at 1 % each give 9 %,
    /// weighed accordingly). Cells of a pack limited by a weaker one swing little.
    public static var minimumSwing: Float { 0.15 }
    /// Oldest anchor a sample may start from, s: a residual current-sensor offset adds up.
    public static var maximumAnchorAge: Float { 48 * 3600 }
    /// Lowest relative variance, (1 %)².
    static var varianceFloor: Float { 1e-4 }

    /// Starts from `labelAh`, trusted to `relativeSigma` (new cells 5 %, second-life 15 %).
    public init(labelAh: Float, relativeSigma: Float) {
        capacityAh = labelAh
        relativeVariance = relativeSigma * relativeSigma
    }

    /// Relative uncertainty (1 σ) of `capacityAh`.
    public var relativeSigma: Float { FloatMath.squareRoot(relativeVariance) }

    /// Counts `current` (A, + = charging, the sensor's offset removed) over `dt` seconds.
    public mutating func count(current: Float, dt: Float) {
        guard hasAnchor else { return }
        throughputAh += current * dt / 3600
        anchorAge += dt
    }

    /// A well-known point: the cell is at `soc` with uncertainty `sigma` (both 0…1). With an
    /// anchor before it that is recent enough and far enough away, the charge counted between
    /// the two is a capacity sample. Returns whether a sample was merged.
    @discardableResult
    public mutating func anchor(soc: Float, sigma: Float, residualOffsetAh: Float) -> Bool {
        defer { if replaces(sigma: sigma, soc: soc) { restart(soc: soc, sigma: sigma) } }
        guard hasAnchor, anchorAge <= CapacityEstimator.maximumAnchorAge else { return false }
        let swing = soc - anchorSOC
        guard abs(swing) >= CapacityEstimator.minimumSwing, swing * throughputAh > 0 else { return false }
        let sample = throughputAh / swing
        // A sample far from the estimate is a wrong anchor (a cell mistaken for full, a curve
        // that does not fit), not a cell that lost or gained half its capacity in two days.
        guard sample > 0.5 * capacityAh && sample < 1.5 * capacityAh else { return false }
        // Relative variance: both anchors through the swing, the offset the filter did not
        // catch over the anchor's age, and a current sensor's gain error (0.5 %).
        let offsetError = residualOffsetAh * anchorAge / 3600 / abs(throughputAh)
        let variance = (anchorSigma * anchorSigma + sigma * sigma) / (swing * swing)
            + offsetError * offsetError + 0.005 * 0.005
        let merged = 1 / (1 / relativeVariance + 1 / variance)
        capacityAh = merged * (capacityAh / relativeVariance + sample / variance)
        relativeVariance = max(merged, CapacityEstimator.varianceFloor)
        samples += 1
        return true
    }

    /// Whether a new point at `soc`, `sigma` should become the anchor: the first, one after
    /// a sample or an old anchor, or a much sharper one (a point close to the anchor and not
    /// much better would only shorten the swing being collected).
    private func replaces(sigma: Float, soc: Float) -> Bool {
        !hasAnchor || anchorAge > CapacityEstimator.maximumAnchorAge
            || abs(soc - anchorSOC) >= CapacityEstimator.minimumSwing || sigma < 0.5 * anchorSigma
    }

    private mutating func restart(soc: Float, sigma: Float) {
        anchorSOC = soc
        anchorSigma = sigma
        anchorAge = 0
        throughputAh = 0
        hasAnchor = true
    }

    /// Takes a stored estimate back (after a reset): the anchor is not kept.
    mutating func restore(capacityAh: Float, relativeSigma: Float, samples: Int) {
        self.capacityAh = capacityAh
        relativeVariance = max(relativeSigma * relativeSigma, CapacityEstimator.varianceFloor)
        self.samples = samples
        hasAnchor = false
    }
}

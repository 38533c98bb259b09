/// Everything the BMS estimates about one cell: its SOC (the Kalman filter), its capacity
/// (throughput between well-known points) and its resistance (learned by the filter from
/// current steps). The learned capacity feeds the filter's coulomb counting, so a cell that
/// has lost capacity does not drift by the loss on every cycle.
public struct CellEstimator: Sendable {
    public private(set) var filter: SOCFilter
    public private(set) var capacity: CapacityEstimator
    /// Seconds the current has stayed within the rest band, and whether this rest has given
    /// its capacity point yet.
    public private(set) var restSeconds: Float = 0
    public private(set) var restAnchored = false

    /// Rest: the current within C/50 (off-grid base loads are C/100 and below) for 30 min,
    /// by which the fast and most of the slow polarisation have decayed.
    public static var restCurrentC: Float { 0.02 }
    public static var restDuration: Float { 1800 }
    /// The sharpest a rest point must be to count for the capacity: 2 % SOC (1 σ).
    public static var restPointSigma: Float { 0.02 }

    /// Whether rests teach the capacity: only against an OCV table calibrated on these cells.
    /// A preset is a chemistry's typical curve; cells in hand may sit tens of mV off it, and
    /// a rest point read through the wrong curve makes a wrong capacity that then drives the
    /// SOC (the NMC preset on the LG M50 record taught 3.3 Ah for a 5.15 Ah cell).
    public let learnsCapacity: Bool

    public init(filter: SOCFilter, learnsCapacity: Bool, capacityPriorSigma: Float = 0.1) {
        self.filter = filter
        self.learnsCapacity = learnsCapacity
        capacity = CapacityEstimator(labelAh: filter.parameters.capacityAh, relativeSigma: capacityPriorSigma)
    }

    public var soc: Float { filter.soc }

    /// One sample, as `SOCFilter.update`.
    public mutating func update(current: Float, voltage: Float, temperature: Float, dt: Float,
                                voltageValid: Bool = true) {
        filter.update(current: current, voltage: voltage, temperature: temperature, dt: dt,
                      voltageValid: voltageValid)
        guard dt > 0 else { return }
        let label = filter.parameters.capacityAh
        let i = current - filter.offset
        capacity.count(current: i, dt: dt)
        if abs(i) <= CellEstimator.restCurrentC * label {
            restSeconds += dt
        } else {
            restSeconds = 0
            restAnchored = false
        }
        guard learnsCapacity, voltageValid, !restAnchored, restSeconds >= CellEstimator.restDuration else { return }
        restAnchored = true
        // The relaxed voltage names the SOC where the curve is steep. The small current of a
        // rest still holds an overpotential (a night's base load through the cell's DC
        // resistance: a few mV, a fraction of a percent that would shrink every capacity
        // sample by the swing's share of it), so the filter's polarisation is taken off, and
        // what it holds counts in full against the point's sharpness.
        let polarisation = filter.v1 + filter.v2
        let ocv = voltage - i * filter.presentR0 - polarisation
        let soc = filter.curve.soc(atVoltage: ocv)
        let slope = filter.curve.slope(atSOC: soc)
        let unc = filter.parameters.curveUncertainty
        let volts = FloatMath.squareRoot(unc * unc + filter.voltageNoise * filter.voltageNoise + polarisation * polarisation)
        // Beyond the table's ends the curve says only "at least full" or "at most empty".
        guard slope > 0, ocv > filter.curve.volts[0], ocv < filter.curve.volts[20] else { return }
        let sigma = volts / slope
        guard sigma <= CellEstimator.restPointSigma else { return }
        point(soc: soc, sigma: sigma)
    }

    /// A known SOC from outside (full at the CV tail, empty at the cutoff): pins the filter.
    /// Not a capacity point: the cell is under current there, and the end of charge or
    /// discharge comes a few percent early by its overpotential, always in the direction
    /// that would shrink the capacity. The rest that follows (charging stops after full,
    /// discharging after the cutoff) gives the point instead.
    public mutating func pin(soc: Float, sigma: Float) {
        filter.recalibrate(to: soc, sigma: sigma)
    }

    private mutating func point(soc: Float, sigma: Float) {
        if capacity.anchor(soc: soc, sigma: sigma, residualOffsetAh: filter.offsetSigma) {
            filter.parameters.capacityAh = capacity.capacityAh
        }
    }

    /// Takes back a stored state (see `EstimatorSnapshot`).
    mutating func restore(_ cell: EstimatorSnapshot.Cell) {
        capacity.restore(capacityAh: cell.capacityAh, relativeSigma: cell.capacitySigma,
                         samples: Int(cell.capacitySamples))
        filter.parameters.capacityAh = cell.capacityAh
        filter.restore(soc: cell.soc, sigma: cell.socSigma, offset: cell.offset,
                       r0: cell.r0, r0Samples: Int(cell.r0Samples))
    }
}

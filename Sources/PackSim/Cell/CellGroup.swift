/// One series group of parallel cells, simulated as one equivalent cell: its capacity is the
/// sum of its cells', its resistances the parallel combination of theirs.
///
/// Model: OCV(SOC) from the chemistry table plus an entropic term neglected; series
/// resistance R0 and two RC pairs, all scaled with temperature by an Arrhenius factor; a
/// one-state hysteresis (Plett's model) for LFP; self-discharge and an optional internal
/// short (leak current); a lumped thermal node heated by I²R losses and balancing, cooled to
/// ambient and coupled to the neighbouring groups.
public struct CellGroup: Sendable {
    // Fixed for the run.
    /// Capacity of the whole group, Ah.
    public let capacityAh: Float
    /// Resistances of the whole group at 25 °C, Ω.
    public let r0: Float
    public let r1: Float
    public let r2: Float
    /// Time constants of the two RC pairs, s.
    public let tau1: Float
    public let tau2: Float
    let activationEnergy: Float
    let hysteresisAmplitude: Float
    let hysteresisRate: Float
    /// Fraction of capacity lost per second at rest.
    let selfDischargePerSecond: Float
    /// Charge lost by self-discharge per day when full, Ah (it scales with the SOC).
    public var selfDischargeAhPerDay: Float { selfDischargePerSecond * 86_400 * capacityAh }
    let chargeEfficiency: Float
    /// Thermal mass, J/K; conductance to ambient and to each neighbour, W/K.
    let heatCapacity: Float
    let ambientConductance: Float
    let neighbourConductance: Float

    // Derived for the step length in use, so the step multiplies instead of dividing.
    var decay1: Float = 0
    var decay2: Float = 0
    /// SOC change per ampere over one step; self-discharge per step; hysteresis approach per
    /// ampere over one step; temperature change per watt over one step.
    var socPerAmp: Float = 0
    var selfDischargePerStep: Float = 0
    var hysteresisPerAmp: Float = 0
    var kelvinPerWatt: Float = 0

    // State.
    /// True state of charge, 0…1 between the cut-offs of the OCV table (may run beyond in
    /// over-charge or over-discharge).
    public private(set) var soc: Float
    /// Compensation term of the Kahan sum that keeps tiny per-step charge changes (a
    /// self-discharge step on a large cell is below one Float ulp of the SOC).
    var socCompensation: Float = 0
    public private(set) var v1: Float = 0
    public private(set) var v2: Float = 0
    public private(set) var hysteresisVoltage: Float = 0
    /// Temperature, °C.
    public internal(set) var temperature: Float
    var arrhenius: Float = 1
    var arrheniusTemperature: Float = 25
    /// Internal short circuit current, A (fault injection).
    public var leakCurrent: Float = 0
    /// Terminal voltage after the last step, V.
    public private(set) var voltage: Float = 0
    /// OCV at the present SOC (without hysteresis), V, kept by the step.
    public private(set) var ocv: Float = 0
    /// The OCV table segment the SOC is in, as a line valid for SOC in
    /// `segmentLow ..< segmentHigh`: the table is read only when the SOC leaves it (hours
    /// apart), not at every step.
    var segmentLow: Float = 1
    var segmentHigh: Float = 0
    var segmentAnchor: Float = 0
    var segmentBase: Float = 0
    var segmentSlope: Float = 0

    init(parameters p: CellParameters, capacityAh: Float, resistanceFactor: Float,
         selfDischargeFactor: Float, soc: Float, temperature: Float) {
        self.capacityAh = capacityAh
        let scale = p.referenceCapacityAh / capacityAh * resistanceFactor
        r0 = p.r0 * scale
        r1 = p.r1 * scale
        r2 = p.r2 * scale
        tau1 = p.tau1
        tau2 = p.tau2
        activationEnergy = p.activationEnergy
        hysteresisAmplitude = p.hysteresis
        hysteresisRate = p.hysteresisRate
        selfDischargePerSecond = p.selfDischargePerMonth * selfDischargeFactor / (30 * 86_400)
        chargeEfficiency = p.coulombicEfficiency
        heatCapacity = p.massPerAh * capacityAh * p.specificHeat
        // Surface ∝ capacity^(2/3), from an 18650's 0.0042 m² at 3.35 Ah; h = 10 W/(m²·K).
        let surface = 0.0042 * SimMath.pow(capacityAh / 3.35, 2.0 / 3.0)
        ambientConductance = 10 * surface
        neighbourConductance = 5 * surface
        self.soc = soc
        self.temperature = temperature
        arrheniusTemperature = temperature
        arrhenius = CellGroup.arrheniusFactor(activationEnergy, temperature)
        ocv = openCircuitVoltage(p)
        voltage = ocv
    }

    /// The OCV at the present SOC, through the cached segment line (refreshed when the SOC
    /// has left it).
    mutating func openCircuitVoltage(_ p: CellParameters) -> Float {
        if !(soc >= segmentLow && soc < segmentHigh) {
            let segment = p.ocvSegment(soc: soc)
            segmentLow = segment.low
            segmentHigh = segment.high
            segmentAnchor = segment.anchor
            segmentBase = segment.base
            segmentSlope = segment.slope
        }
        return segmentBase + segmentSlope * (soc - segmentAnchor)
    }

    /// Prepares the RC decay factors for steps of `seconds`.
    mutating func prepare(stepSeconds seconds: Float) {
        decay1 = SimMath.exp(-seconds / tau1)
        decay2 = SimMath.exp(-seconds / tau2)
        socPerAmp = seconds / (3600 * capacityAh)
        selfDischargePerStep = selfDischargePerSecond * seconds
        hysteresisPerAmp = seconds * hysteresisRate / (3600 * capacityAh)
        kelvinPerWatt = seconds / heatCapacity
    }

    /// R(T)/R(25 °C) = exp(Ea/R · (1/T − 1/298.15 K)).
    static func arrheniusFactor(_ ea: Float, _ celsius: Float) -> Float {
        SimMath.exp(ea / 8.314 * (1 / (celsius + 273.15) - 1 / 298.15))
    }

    /// The voltage behind R0 after the last step: OCV, hysteresis and both RC voltages, V.
    var emf: Float { ocv + hysteresisVoltage + v1 + v2 }

    /// Advances by one prepared step with pack current `current` (A, + = charging) through
    /// the group, `bleed` A drawn by its balancing resistor; returns the heat released, W.
    mutating func step(current: Float, bleed: Float, transfer: Float = 0, ambient: Float,
                       neighbours: Float, neighbourCount: Float, parameters p: CellParameters) -> Float {
        if abs(temperature - arrheniusTemperature) > 0.2 {
            arrhenius = CellGroup.arrheniusFactor(activationEnergy, temperature)
            arrheniusTemperature = temperature
        }
        // An active balancer's transfer (+ = into the cell) flows like the pack current: its
        // converter's losses heat the board, not the cell.
        // An internal short drains the cell down to empty, not beyond (the cell is then at
        // nothing; only a current forced through the string could reverse it).
        let leak = soc > 0 ? leakCurrent : 0
        let cell = current + transfer - bleed - leak
        let stored = cell > 0 ? cell * chargeEfficiency : cell
        let delta = stored * socPerAmp - selfDischargePerStep * max(soc, 0)
        // Kahan summation: per-step changes can be below one ulp of the SOC.
        let y = delta - socCompensation
        let t = soc + y
        socCompensation = (t - soc) - y
        soc = t

        // The end-of-range polarisation scales every branch, so it builds up and relaxes with
        // the RC time constants as well as jumping with R0.
        let ends = 1 + CellParameters.endPolarisation(soc: soc, charging: cell > 0)
        v1 = v1 * decay1 + (1 - decay1) * r1 * arrhenius * ends * cell
        v2 = v2 * decay2 + (1 - decay2) * r2 * arrhenius * ends * cell
        if hysteresisAmplitude > 0 && cell != 0 {
            let x = min(abs(cell) * hysteresisPerAmp, 1)
            let target = cell > 0 ? hysteresisAmplitude : -hysteresisAmplitude
            hysteresisVoltage += (target - hysteresisVoltage) * x
        }
        let overpotential = cell * r0 * arrhenius * ends + v1 + v2
        ocv = openCircuitVoltage(p)
        voltage = ocv + hysteresisVoltage + overpotential
        // Heat: irreversible losses in the cell, plus the bleed resistor mounted on it, plus
        // the internal short.
        let heat = cell * overpotential + bleed * voltage + leak * voltage
        let flow = heat - ambientConductance * (temperature - ambient)
            - neighbourConductance * (neighbourCount * temperature - neighbours)
        temperature += flow * kelvinPerWatt
        return heat
    }

    /// Sets the state of charge directly (initial conditions, tests).
    mutating func setSOC(_ value: Float, _ p: CellParameters) {
        soc = value
        socCompensation = 0
        ocv = openCircuitVoltage(p)
    }
}

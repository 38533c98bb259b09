import BMSCore

/// The electro-thermal parameters of one chemistry, for a reference cell; `CellGroup` scales
/// them to the capacity of a pack's cell groups.
///
/// Sources (figures are the ones the project could trace; assumptions are marked):
/// - OCV tables: BMSCore's `OCVCurve.preset` (one source for the plant and the BMS; its
///   sources are cited there).
/// - R0 and the two RC pairs, LFP and NMC: identified by this project by least squares on
///   the physics-model ground truth in ../shared/data/soc (PyBaMM 26.10 DFN, A123 26650
///   "Prada2013" 2.3 Ah and LG M50 "Chen2020" 5.0 Ah; 2.3 / 3.3 mV RMS). They are fits to a
///   model, not to measured cells. NCA: the same third-party 18650PF script (R0 ≈ 19–25 mΩ,
///   a sub-second pair of ≈ 11–13 mΩ folded into R0 here, slow pair ≈ 31–48 mΩ at τ ≈ 46 s).
///   LTO: Toshiba SCiB 3.0 Ah, 2.5 mΩ DC (10 s) at 50 % SOC (Toshiba at AABC 2008, reported
///   by Green Car Congress); its RC pairs are not published, so the LFP cell's RC-to-R0
///   ratios and time constants are used (assumption).
/// - Temperature dependence: Arrhenius with 20 kJ/mol, the value PyBaMM's ECM example uses
///   for DC resistance (a modelling assumption, R(0 °C)/R(25 °C) ≈ 2.1), for every chemistry.
/// - LFP hysteresis: 10 mV half-width, inside the 2.5–12.5 mV found after long rest (5–25 mV
///   charge/discharge gap); approach rate γ = 20 per capacity (assumption). The other
///   chemistries: hysteresis neglected.
/// - Self-discharge per month at 25 °C: LFP 1.5 % (reversible part of a 12.8 V LFP pack
///   specification), NMC 0.4 % (Ni-rich 18650 at 90 % SOC, calendar-ageing study 2019),
///   NCA and LTO 2 % (general Li-ion 1–5 %/month; no cell-specific figure found).
/// - Thermal: mass per Ah LFP 19.4 g (EVE LF280K 5.42 kg / 280 Ah), NMC and NCA 13.6 g
///   (NCR18650B 45.6 g / 3.35 Ah; used for NMC too, no M50 mass was confirmed), LTO 46.7 g
///   (SCiB 140 g / 3.0 Ah); specific heat LFP 999, others 913 J/(kg·K) (BPX example cells).
///   Heat transfer to ambient 10 W/(m²·K) (PyBaMM's default) over a surface that grows with
///   capacity^(2/3) from an 18650's 0.0042 m² at 3.35 Ah; neighbour coupling half of that
///   (assumption).
/// - Coulombic efficiency 0.999 on charge (assumption; typical of lithium-ion at 25 °C).
public struct CellParameters: Sendable {
    public var chemistry: Chemistry
    /// Open-circuit voltage at SOC 0, 5, …, 100 %, V.
    public var ocv: InlineArray<21, Float>
    /// Capacity of the cell the resistances below were measured on, Ah.
    public var referenceCapacityAh: Float
    /// Ohmic resistance and the two RC pairs at 25 °C, Ω, for the reference cell.
    public var r0: Float
    public var r1: Float
    public var tau1: Float
    public var r2: Float
    public var tau2: Float
    /// Arrhenius activation energy of the resistances, J/mol.
    public var activationEnergy: Float
    /// LFP voltage hysteresis half-width, V (0 = none), and its approach rate per capacity.
    public var hysteresis: Float
    public var hysteresisRate: Float
    /// Fraction of capacity lost per 30 days at rest.
    public var selfDischargePerMonth: Float
    /// Cell mass per Ah of capacity, kg, and specific heat, J/(kg·K).
    public var massPerAh: Float
    public var specificHeat: Float
    /// Charge efficiency (fraction of charge current stored).
    public var coulombicEfficiency: Float

    /// The parameters of `chemistry`, or `nil` for `.custom`.
    public static func of(_ chemistry: Chemistry) -> CellParameters? {
        switch chemistry {
        case .lfp:
            CellParameters(
                chemistry: .lfp,
                ocv: OCVCurve.preset(chemistry)!.volts,
                referenceCapacityAh: 2.3, r0: 0.0195, r1: 0.00275, tau1: 17, r2: 0.0202, tau2: 246,
                activationEnergy: 20_000, hysteresis: 0.010, hysteresisRate: 20,
                selfDischargePerMonth: 0.015, massPerAh: 0.0194, specificHeat: 999,
                coulombicEfficiency: 0.999)
        case .nmc:
            CellParameters(
                chemistry: .nmc,
                ocv: OCVCurve.preset(chemistry)!.volts,
                referenceCapacityAh: 5.0, r0: 0.0171, r1: 0.0092, tau1: 21, r2: 0.0281, tau2: 206,
                activationEnergy: 20_000, hysteresis: 0, hysteresisRate: 0,
                selfDischargePerMonth: 0.004, massPerAh: 0.0136, specificHeat: 913,
                coulombicEfficiency: 0.999)
        case .nca:
            CellParameters(
                chemistry: .nca,
                ocv: OCVCurve.preset(chemistry)!.volts,
                // The sub-second pair (≈ 12 mΩ, τ 0.1–0.5 s) acts as resistance at 1 s steps:
                // folded into R0 (22 + 12 mΩ); no fast pair left.
                referenceCapacityAh: 2.9, r0: 0.034, r1: 0, tau1: 1, r2: 0.040, tau2: 46,
                activationEnergy: 20_000, hysteresis: 0, hysteresisRate: 0,
                selfDischargePerMonth: 0.02, massPerAh: 0.0136, specificHeat: 913,
                coulombicEfficiency: 0.999)
        case .lto:
            // RC pairs: the LFP cell's ratios to R0 (0.141 and 1.036) and time constants.
            CellParameters(
                chemistry: .lto,
                ocv: OCVCurve.preset(chemistry)!.volts,
                referenceCapacityAh: 3.0, r0: 0.0025, r1: 0.000353, tau1: 17, r2: 0.00259, tau2: 246,
                activationEnergy: 20_000, hysteresis: 0, hysteresisRate: 0,
                selfDischargePerMonth: 0.02, massPerAh: 0.0467, specificHeat: 913,
                coulombicEfficiency: 0.999)
        case .custom:
            nil
        }
    }

    /// OCV at `soc`, linear between the 5 % points; beyond the table it continues at 1 V per
    /// unit of SOC above (a slightly over-charged cell rests a little above its full OCV) and
    /// 5 V per unit below. The steep voltage of a cell driven past its ends under current is
    /// polarisation, modelled in `endPolarisation(soc:charging:)`.
    @inlinable
    public func openCircuitVoltage(soc: Float) -> Float {
        if soc >= 1 { return ocv[20] + (soc - 1) }
        if soc <= 0 { return ocv[0] + soc * 5 }
        let x = soc * 20
        let i = min(Int(x), 19)
        let f = x - Float(i)
        let table = ocv.span  // reads in place; subscripting the InlineArray itself may copy it
        return table[i] + (table[i + 1] - table[i]) * f
    }

    /// Multiplier of R0 for the extra polarisation at the ends of the SOC range: a cell near
    /// full under charge current (or near empty under discharge) has run out of lithium
    /// sites on one electrode and its overpotential climbs steeply. Zero inside 5–95 %, then
    /// 30 × ((distance into the last 5 %) / 5 %)², continuing beyond the range. A modelling
    /// choice that gives the familiar end-of-charge knee under current and relaxes to the
    /// OCV table at rest.
    @inlinable
    public static func endPolarisation(soc: Float, charging: Bool) -> Float {
        let depth = charging ? (soc - 0.95) * 20 : (0.05 - soc) * 20
        return depth > 0 ? 30 * depth * depth : 0
    }

    /// The piece of the OCV curve that holds `soc`: a line `base + slope · (soc − anchor)`
    /// valid for `low ..< high` (the 5 % table steps, and the two extrapolations beyond).
    public func ocvSegment(soc: Float) -> (low: Float, high: Float, anchor: Float, base: Float, slope: Float) {
        if soc >= 1 { return (1, .infinity, 1, ocv[20], 1) }
        if soc < 0 { return (-.infinity, 0, 0, ocv[0], 5) }
        let i = min(Int(soc * 20), 19)
        let low = Float(i) / 20
        return (low, Float(i + 1) / 20, low, ocv[i], (ocv[i + 1] - ocv[i]) * 20)
    }
}
